/**
 * The project's name from pyproject.toml (pure): `name` in the `[project]` table, the one
 * place PEP 621 puts it. Not a TOML parser: it reads a plain `name = "…"` (or `'…'`) line
 * inside `[project]`, which is how every pyproject.toml writes it.
 */
export function parseProjectName(pyproject: string): string | undefined {
  let inProject = false;
  for (const raw of pyproject.split(/\r?\n/)) {
    const line = raw.trim();
    const table = /^\[\s*([^\]]+?)\s*\]/.exec(line);
    if (table) {
      inProject = table[1] === 'project';
      continue;
    }
    if (!inProject) continue;
    const name = /^name\s*=\s*(?:"([^"]*)"|'([^']*)')\s*(?:#.*)?$/.exec(line);
    if (name) return name[1] ?? name[2];
  }
  return undefined;
}

/**
 * A Python project name as an image repository component: lower case, and every run of
 * `-`, `_` and `.` becomes `-` (PEP 503's normalisation, which docker's grammar accepts).
 * Undefined when the result is not a valid component.
 */
export function normalizeProjectName(name: string): string | undefined {
  const normalized = name.toLowerCase().replace(/[-_.]+/g, '-');
  return /^[a-z0-9]+(?:-[a-z0-9]+)*$/.test(normalized) ? normalized : undefined;
}
