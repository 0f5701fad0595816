/**
 * `[tool.run-docker]` in a project's pyproject.toml, checked (pure). The table is the
 * project's own settings for run-docker and build-docker (docs/project-file.md):
 *
 *   [tool.run-docker]
 *   image = "127.0.0.1:5000/team/hello"          # the dev image's repository; prod: IMAGE-BRANCH
 *   run-options = ["-p", "127.0.0.1:8000:8000"]  # docker run options, read as the command line's
 *   requires-mini = "20261201-000000"            # the oldest mini that may run this project
 *
 * Every key is known here: an unknown key or a value of the wrong type is one line naming
 * the key and the file, so a typo never silently does nothing.
 */
import { compareTagOrder } from '../../common/compare-tag-order';
import { formatImageRef, parseImageRef } from '../../common/image-ref';
import { RunDockerError } from '../../common/run-docker-error';
import type { RunContext } from '../../contract/contract';

export const TABLE_NAME = '[tool.run-docker]';

export interface ProjectTable {
  /** The dev image's repository (no tag, no digest), as written. */
  image: string | undefined;
  /** docker run options, to be read by the run-docker grammar (parse-invocation.ts). */
  runOptions: string[];
  /** The oldest mini version (UTC `YYYYMMDD-HHMMSS`) that may run this project. */
  requiresMini: string | undefined;
  /** The table as parsed, in a canonical text (keys sorted): what an allow-record's hash covers. */
  canonical: string;
}

const KEYS = ['image', 'run-options', 'requires-mini'] as const;
const MINI_VERSION = /^\d{8}-\d{6}$/;

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/**
 * The `[tool.run-docker]` table of a parsed pyproject.toml, checked; undefined when the
 * document has none. `file` names the file in messages.
 */
export function selectProjectTable(document: unknown, file: string): ProjectTable | undefined {
  const tool = isTable(document) ? document.tool : undefined;
  if (tool === undefined) return undefined;
  if (!isTable(tool)) throw wrongType('tool', 'a table', file);
  const table = tool['run-docker'];
  if (table === undefined) return undefined;
  if (!isTable(table)) throw wrongType('tool.run-docker', 'a table', file);
  // requires-mini first: a newer file's keys are unknown to an older mini, and saying "too
  // old" is the helpful answer then, not "unknown key".
  const requiresMini = table['requires-mini'];
  if (requiresMini !== undefined && (typeof requiresMini !== 'string' || !MINI_VERSION.test(requiresMini)))
    throw wrongType('requires-mini', 'a mini version, a string such as "20261201-000000"', file);
  for (const key of Object.keys(table)) {
    if (!(KEYS as readonly string[]).includes(key)) {
      throw new RunDockerError(
        `unknown key "${key}" in ${TABLE_NAME} of "${file}"`,
        `The keys are ${KEYS.join(', ')} (docs/project-file.md); a newer run-docker may know more: say so with requires-mini.`,
      );
    }
  }
  const image = table.image;
  if (image !== undefined) {
    if (typeof image !== 'string') throw wrongType('image', 'a string, the repository of the dev image', file);
    checkRepository(image, file);
  }
  const runOptions = table['run-options'];
  if (runOptions !== undefined && (!Array.isArray(runOptions) || !runOptions.every((v) => typeof v === 'string')))
    throw wrongType('run-options', 'an array of strings, such as ["-p", "127.0.0.1:8000:8000"]', file);
  return {
    image,
    runOptions: runOptions ?? [],
    requiresMini,
    canonical: canonicalJson(table),
  };
}

function wrongType(key: string, expected: string, file: string): RunDockerError {
  return new RunDockerError(
    `"${key}" in ${key === 'tool' ? 'the' : TABLE_NAME} of "${file}" must be ${expected}`,
    'Fix it in the file; docs/project-file.md describes every key.',
  );
}

/** The image is a repository: the tag is chosen per call (the newest, or `.:TAG`). */
function checkRepository(image: string, file: string): void {
  const ref = parseImageRef(image, `"image" in ${TABLE_NAME} of "${file}":`);
  if (ref.tag !== undefined || ref.digest !== undefined) {
    throw new RunDockerError(
      `"image" in ${TABLE_NAME} of "${file}" has a tag or digest ("${image}")`,
      `Give the repository alone ("${formatImageRef({ ...ref, tag: undefined, digest: undefined })}"); pin a version per call with ".:TAG".`,
    );
  }
}

/**
 * Whether the mini running (`version`, its signed manifest version) is at least
 * `requiresMini`; a version that cannot be compared (a mini published with another kind of
 * version) is not.
 */
export function isMiniNewEnough(version: string, requiresMini: string): boolean {
  const order = compareTagOrder(version, requiresMini);
  return order !== undefined && order >= 0 && MINI_VERSION.test(version);
}

/**
 * Refuses a call whose mini is older than the project's `requires-mini` (an offline host, a
 * pinned mini). The payload built into the shim cannot show which mini it matches, so it
 * does not qualify either.
 */
export function checkRequiresMini(
  ctx: Pick<RunContext, 'mini' | 'payloadSource' | 'shimVersion'>,
  required: string | undefined,
  file: string,
): void {
  if (required === undefined) return;
  const builtIn = ctx.payloadSource?.builtIn === true;
  if (!builtIn && isMiniNewEnough(ctx.mini.version, required)) return;
  const running = builtIn
    ? `the payload built into shim ${ctx.shimVersion} (${ctx.payloadSource?.reason ?? 'built in'}), whose mini version is not known`
    : `mini ${ctx.mini.version} (${ctx.mini.reference})`;
  throw new RunDockerError(
    `the project "${file}" requires mini ${required} or newer, and this call runs ${running}`,
    'Run without --local so the newest mini is found, or pin a newer one (RUN_DOCKER_MINI, docs/configuration.md).',
  );
}

/** JSON with object keys sorted, so the same table always has the same text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (isTable(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
