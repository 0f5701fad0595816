/** `build-docker --help` (pure). The layout and every rule are in docs/build-docker.md. */
export function formatBuildHelp(miniVersion: string): string {
  return `Usage: build-docker [--push] [--dry-run] [--allow-dirty] [--branch NAME] [--platform LIST] [REPOSITORY]

Run in a project's git repository (pyproject.toml, src/<package>, tests/,
docker/Dockerfile). Builds, from the last commit (git archive), never from
uncommitted files:
  REPOSITORY:TAG           the dev image: docker/Dockerfile, dependencies only
  REPOSITORY-BRANCH:TAG    the prod image: the dev image with the package installed
TAG is the UTC date and time, YYYYMMDD-HHMMSS, the same for both: the newest
build is what "run-docker REPOSITORY" runs next. REPOSITORY defaults to image
in [tool.run-docker] of pyproject.toml, else the project's name there (a local
image); both read from the last commit. BRANCH is the branch name in lower case with
"/" and other characters an image name cannot hold turned into "-".

Options:
  --push          push both images; their digests are printed last
  --dry-run       print the docker commands instead of running them
  --allow-dirty   build the last commit even when the working tree has changes
  --branch NAME   name the prod image after NAME (a detached HEAD, as in CI)
  --platform LIST build for these platforms, e.g. linux/amd64,linux/arm64: with
                  --push, one index per image (other platforms run emulated)
  --local         find the mini on this host only (no network; not with --push)
  -h, --help      this help
  --version       the shim and mini in use

Examples:
  build-docker                                   hello:TAG and hello-main:TAG, on this host
  build-docker --push 127.0.0.1:5000/team/hello  and push them, for every teammate's next run
  build-docker --dry-run --branch main           the commands, for a detached HEAD

This behaviour comes from mini ${miniVersion}.
`;
}
