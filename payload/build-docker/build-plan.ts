/**
 * What one `build-docker` call does, as data (pure): the checks that refuse a project, the
 * two image references, their shared tag and labels, the generated prod Dockerfile and the
 * docker commands. One way through the data: argv → BuildOptions + ProjectFacts → BuildPlan
 * → docker commands (run-build.ts) → digests.
 */
import { formatUtcStamp } from '../../common/format-utc-stamp';
import { formatImageRef, parseImageRef } from '../../common/image-ref';
import { RunDockerError } from '../../common/run-docker-error';
import type { BuildOptions } from './parse-build-invocation';
import { computeBranchComponent } from './compute-branch-component';
import { normalizeProjectName } from './parse-project-name';

/** The dependencies' Dockerfile, relative to the project's top folder (docs/build-docker.md). */
export const DEPENDENCIES_DOCKERFILE = 'docker/Dockerfile';

/** Where the committed tree is copied in the prod image while it is installed (then removed). */
export const SOURCE_IN_IMAGE = '/tmp/build-docker/src';

/** The git repository, read once (read-project-facts.ts). */
export interface ProjectFacts {
  /** The repository's top folder. */
  dir: string;
  /** Full hex id of the HEAD commit. */
  revision: string;
  /** The checked-out branch; undefined on a detached HEAD. */
  branch?: string;
  /** Changed, staged and untracked (not ignored) files, as `git status` names them. */
  dirtyFiles: string[];
  /** The `origin` remote's URL, scheme, host, port and path only; undefined when there is none. */
  source?: string;
  /** `[project] name` of pyproject.toml at HEAD. */
  projectName?: string;
  /** `[tool.run-docker]` image of pyproject.toml at HEAD: the default repository (docs/project-file.md). */
  image?: string;
  /** `[tool.run-docker]` requires-mini of pyproject.toml at HEAD. */
  requiresMini?: string;
  /** Whether docker/Dockerfile is committed (in HEAD), and whether it is in the working tree. */
  dockerfile: { committed: boolean; inWorkTree: boolean };
  /** Paths of the submodules committed in HEAD: `git archive` leaves them out of the context. */
  submodules: string[];
}

export const LABELS = {
  created: 'org.opencontainers.image.created',
  revision: 'org.opencontainers.image.revision',
  source: 'org.opencontainers.image.source',
  version: 'org.opencontainers.image.version',
  branch: 'org.run-docker.branch',
} as const;

export interface BuildPlan {
  /** UTC `YYYYMMDD-HHMMSS`, shared by both images. */
  tag: string;
  /** `<repository>:<tag>`: dependencies only. */
  dev: string;
  /** `<repository>-<branch>:<tag>`: the package installed. */
  prod: string;
  /** The repositories, without the tag (for the digests). */
  devRepository: string;
  prodRepository: string;
  /** The branch as given (the label) and as a repository component. */
  branch: string;
  labels: [string, string][];
  /** The platforms to build for (`--platform`); empty: the engine's own. */
  platforms: string[];
}

/** Where the committed tree and the generated Dockerfile are (a fresh folder per build). */
export interface BuildPaths {
  /** The unpacked `git archive` of HEAD: the build context of both images. */
  context: string;
  /** The generated prod Dockerfile, outside the context. */
  prodDockerfile: string;
}

/**
 * Checks the project against the options and names the images; throws one RunDockerError
 * for each refusal (docs/build-docker.md, "Refusals"). `now` is the build's moment.
 */
export function buildBuildPlan(options: BuildOptions, facts: ProjectFacts, now: Date): BuildPlan {
  if (!facts.dockerfile.committed) {
    throw new RunDockerError(
      facts.dockerfile.inWorkTree
        ? `"${DEPENDENCIES_DOCKERFILE}" in "${facts.dir}" is not committed, and both images are built from the committed tree`
        : `the project "${facts.dir}" has no "${DEPENDENCIES_DOCKERFILE}"`,
      facts.dockerfile.inWorkTree
        ? `Commit it (git add ${DEPENDENCIES_DOCKERFILE} && git commit).`
        : `Add ${DEPENDENCIES_DOCKERFILE}, the Dockerfile of the dev image (dependencies only), and commit it; see docs/build-docker.md of run-docker.`,
    );
  }
  const branch = options.branch ?? facts.branch;
  if (branch === undefined) {
    throw new RunDockerError(
      `HEAD is detached in "${facts.dir}", and the prod image is named after a branch`,
      'Check out a branch, or name one with --branch NAME (as CI does).',
    );
  }
  const component = computeBranchComponent(branch);
  if (component === undefined) {
    throw new RunDockerError(
      `the branch "${branch}" has no letter or digit to name an image after`,
      'Name one with --branch NAME.',
    );
  }
  const devRepository = selectRepository(options.repository, facts);
  const prodRepository = formatRepositoryOrThrow(
    `${devRepository}-${component}`,
    `the prod image's repository (from the branch "${branch}")`,
  );
  if (facts.dirtyFiles.length > 0 && !options.allowDirty) {
    const shown = facts.dirtyFiles
      .slice(0, 5)
      .map((file) => `"${file}"`)
      .join(', ');
    const more = facts.dirtyFiles.length > 5 ? ` and ${facts.dirtyFiles.length - 5} more` : '';
    throw new RunDockerError(
      `the working tree of "${facts.dir}" has uncommitted changes (${shown}${more}), and the images are built from the last commit only`,
      'Commit or stash them, or pass --allow-dirty to build the last commit anyway.',
    );
  }
  // The newest family of the tag order (common/compare-tag-order.ts, docs/tags.md).
  const tag = formatUtcStamp(now);
  const labels: [string, string][] = [
    [LABELS.created, `${now.toISOString().slice(0, 19)}Z`],
    [LABELS.revision, facts.revision],
    ...(facts.source === undefined ? [] : [[LABELS.source, facts.source] as [string, string]]),
    [LABELS.version, tag],
    [LABELS.branch, branch],
  ];
  return {
    tag,
    dev: `${devRepository}:${tag}`,
    prod: `${prodRepository}:${tag}`,
    devRepository,
    prodRepository,
    branch,
    labels,
    platforms: options.platforms ?? [],
  };
}

/**
 * The local tag of one platform's image in a build for several: `REPO:TAG-linux-arm64`. Not a
 * date-time, so never "the newest" of anything (docs/tags.md); pushed so that the index under
 * `REPO:TAG` can name it, as `docker manifest create` needs.
 */
export function platformReference(reference: string, platform: string): string {
  return `${reference}-${platform.replace(/\//g, '-')}`;
}

/** The repository given, else the project file's image, else the project's name from pyproject.toml (a local image). */
function selectRepository(given: string | undefined, facts: ProjectFacts): string {
  if (given !== undefined) return formatRepositoryOrThrow(given, 'the repository');
  if (facts.image !== undefined) return formatRepositoryOrThrow(facts.image, 'the image of [tool.run-docker]');
  if (facts.projectName === undefined) {
    throw new RunDockerError(
      `no repository given, and "${facts.dir}/pyproject.toml" names no project ([project] name) at the last commit`,
      'Give the repository, e.g. "build-docker 127.0.0.1:5000/team/app".',
    );
  }
  const name = normalizeProjectName(facts.projectName);
  if (name === undefined) {
    throw new RunDockerError(
      `the project name "${facts.projectName}" in pyproject.toml cannot name an image`,
      'Give the repository, e.g. "build-docker 127.0.0.1:5000/team/app".',
    );
  }
  return name;
}

/** A repository without tag or digest, in the engine's familiar form. */
function formatRepositoryOrThrow(text: string, what: string): string {
  const ref = parseImageRef(text, what);
  if (ref.tag !== undefined || ref.digest !== undefined) {
    throw new RunDockerError(
      `${what} "${text}" has a tag or digest`,
      'Give the repository alone: build-docker tags both images with the UTC date and time.',
    );
  }
  // Kept as the user wrote it (familiar form), so the printed digests and what run-docker is given match.
  return formatImageRef({ ...ref });
}

/** `--label k=v` for each label. */
function labelArgs(plan: BuildPlan): string[] {
  return plan.labels.flatMap(([key, value]) => ['--label', `${key}=${value}`]);
}

/**
 * `--platform P` for one platform of several (the dev build also `--pull`s: its base must come
 * for that platform from its registry, where one tag can hold several; a local tag holds one).
 * One platform named is built as usual, for it.
 */
function platformArgs(plan: BuildPlan, platform: string | undefined, pull: boolean): string[] {
  if (platform !== undefined) return ['--platform', platform, ...(pull ? ['--pull'] : [])];
  return plan.platforms.length === 1 ? ['--platform', plan.platforms[0]!] : [];
}

/** The docker argv (without `docker`) of the dev build: docker/Dockerfile of the committed tree. */
export function buildDevBuildArgs(plan: BuildPlan, paths: BuildPaths, platform?: string): string[] {
  return [
    'build',
    '--force-rm',
    ...platformArgs(plan, platform, true),
    '--file',
    `${paths.context}/${DEPENDENCIES_DOCKERFILE}`,
    ...labelArgs(plan),
    '--tag',
    platform === undefined ? plan.dev : platformReference(plan.dev, platform),
    paths.context,
  ];
}

/** The docker argv (without `docker`) of the prod build: the generated Dockerfile, the same context. */
export function buildProdBuildArgs(plan: BuildPlan, paths: BuildPaths, platform?: string): string[] {
  return [
    'build',
    '--force-rm',
    ...platformArgs(plan, platform, false),
    '--file',
    paths.prodDockerfile,
    ...labelArgs(plan),
    '--tag',
    platform === undefined ? plan.prod : platformReference(plan.prod, platform),
    paths.context,
  ];
}

/**
 * Installs the committed tree in the prod image, as Python (the image has it; a shell may be
 * missing or differ): with pip, `pip install --no-deps` (dependencies belong in
 * docker/Dockerfile, and there may be no network); without pip (Debian's python3 alone),
 * each package under src/ (a folder with __init__.py, or a module) is copied into
 * site-packages and compiled. The copied tree is removed afterwards.
 */
export const INSTALL_SCRIPT = `import compileall, os, shutil, subprocess, sys, sysconfig
src = sys.argv[1]
if subprocess.run([sys.executable, "-m", "pip", "--version"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0:
    print("build-docker: pip install --no-deps of the committed tree", flush=True)
    env = dict(os.environ, PIP_BREAK_SYSTEM_PACKAGES="1", PIP_ROOT_USER_ACTION="ignore", PIP_DISABLE_PIP_VERSION_CHECK="1")
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index", "--no-cache-dir", src], check=True, env=env)
else:
    packages = os.path.join(src, "src")
    names = sorted(n for n in os.listdir(packages) if os.path.isfile(os.path.join(packages, n, "__init__.py")) or n.endswith(".py")) if os.path.isdir(packages) else []
    if not names:
        sys.exit("build-docker: no pip in the image and no package in src/ (a folder with __init__.py) to copy")
    target = sysconfig.get_paths()["purelib"]
    os.makedirs(target, exist_ok=True)
    for name in names:
        source, installed = os.path.join(packages, name), os.path.join(target, name)
        print(f"build-docker: no pip in the image; src/{name} -> {installed}", flush=True)
        if os.path.isdir(source):
            shutil.copytree(source, installed, dirs_exist_ok=True)
            ok = compileall.compile_dir(installed, quiet=1)
        else:
            shutil.copy2(source, installed)
            ok = compileall.compile_file(installed, quiet=1)
        if not ok:
            sys.exit(f"build-docker: src/{name} does not compile")
shutil.rmtree(src)
`;

/**
 * The prod image's Dockerfile: the dev image of this build, plus the package installed from
 * the committed tree as root, then the dev image's user again (`devUser`, empty for root).
 */
export function buildProdDockerfile(plan: BuildPlan, devUser: string, from: string = plan.dev): string {
  return [
    `# Generated by build-docker: ${plan.dev} plus the package of commit ${plan.labels.find(([key]) => key === LABELS.revision)?.[1]}.`,
    `FROM ${from}`,
    'USER root',
    `COPY . ${SOURCE_IN_IMAGE}/`,
    `RUN ${JSON.stringify(['python3', '-c', INSTALL_SCRIPT, SOURCE_IN_IMAGE])}`,
    ...(devUser === '' ? [] : [`USER ${devUser}`]),
    '',
  ].join('\n');
}
