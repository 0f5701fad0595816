/**
 * A git branch name as one component of an image repository (pure), so the prod image can
 * be `<name>-<branch>`. Docker's grammar for a path component
 * (github.com/distribution/reference, reference.go) is `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`;
 * the rule, as docs/build-docker.md states it:
 *
 * 1. upper case becomes lower case;
 * 2. every character other than `a`–`z`, `0`–`9`, `.` and `_` becomes `-` (so `/` → `-`);
 * 3. every run of `.`, `_` and `-` other than a single `.`, a single `_` or `__` becomes one `-`;
 * 4. `.`, `_` and `-` at the start or the end are dropped.
 *
 * `feature/Login-Page` → `feature-login-page`, `release/1.2` → `release-1.2`,
 * `fix/#12 crash` → `fix-12-crash`. Undefined when nothing is left (`///`).
 */
export function computeBranchComponent(branch: string): string | undefined {
  const component = branch
    .toLowerCase()
    .replace(/[^a-z0-9._]/g, '-')
    .replace(/[._-]+/g, (run) => (run === '.' || run === '_' || run === '__' ? run : '-'))
    .replace(/^[._-]+|[._-]+$/g, '');
  return component === '' ? undefined : component;
}
