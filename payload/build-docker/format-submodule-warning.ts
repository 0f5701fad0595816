/** Pure: one line naming the submodules the images will not have. */
export function formatSubmoduleWarning(paths: readonly string[]): string {
  const names = paths.map((path) => `"${path}"`).join(', ');
  const which = paths.length === 1 ? `the submodule ${names} is` : `the submodules ${names} are`;
  return `${which} not in the images: build-docker builds from "git archive" of the last commit, which leaves submodules out; install what the project needs from them in docker/Dockerfile, or commit it into the repository`;
}
