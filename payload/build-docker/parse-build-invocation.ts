/**
 * The grammar of `build-docker`, pure:
 *
 *   build-docker [--push] [--dry-run] [--allow-dirty] [--branch NAME] [--platform LIST] [--local] [REPOSITORY]
 *
 * Options may come before or after REPOSITORY (there is no command after it to protect);
 * `--branch NAME` and `--branch=NAME` both work; `--` ends the options.
 */
import { RunDockerError } from '../../common/run-docker-error';

export interface BuildOptions {
  push: boolean;
  dryRun: boolean;
  allowDirty: boolean;
  /** The branch the prod image is named after, instead of the checked-out one (detached HEAD in CI). */
  branch?: string;
  /** Read by the shim (find the mini on this host only); here it forbids --push. */
  local: boolean;
  /** The dev image's repository; default: the project's name from pyproject.toml. */
  repository?: string;
  /**
   * `--platform linux/amd64,linux/arm64`: the platforms to build for, as docker names them
   * (`os/arch[/variant]`), without duplicates; absent: the engine's own. More than one is one
   * index per image in the registry, so it needs --push.
   */
  platforms?: string[];
}

export type BuildInvocation = { kind: 'help' } | { kind: 'version' } | { kind: 'build'; options: BuildOptions };

const HELP_HINT = 'See "build-docker --help".';

const FLAGS = { '--push': 'push', '--dry-run': 'dryRun', '--allow-dirty': 'allowDirty', '--local': 'local' } as const;

export function parseBuildInvocation(argv: readonly string[]): BuildInvocation {
  const options: BuildOptions = { push: false, dryRun: false, allowDirty: false, local: false };
  const positionals: string[] = [];
  for (let i = 0, arg = argv[0]; arg !== undefined; arg = argv[++i]) {
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '-h' || arg === '--help') return { kind: 'help' };
    if (arg === '--version') return { kind: 'version' };
    if (Object.hasOwn(FLAGS, arg)) {
      options[FLAGS[arg as keyof typeof FLAGS]] = true;
    } else if (arg === '--branch' || arg.startsWith('--branch=')) {
      const value = arg === '--branch' ? argv[++i] : arg.slice('--branch='.length);
      if (value === undefined || value === '')
        throw new RunDockerError('--branch needs a branch name', 'Write it as --branch main.');
      options.branch = value;
    } else if (arg === '--platform' || arg.startsWith('--platform=')) {
      const value = arg === '--platform' ? argv[++i] : arg.slice('--platform='.length);
      options.platforms = parsePlatforms(value);
    } else if (arg.startsWith('-') && arg !== '-') {
      throw new RunDockerError(`unknown option "${arg}"`, HELP_HINT);
    } else {
      positionals.push(arg);
    }
  }
  if (positionals.length > 1) {
    throw new RunDockerError(`one repository at most, got ${positionals.map((p) => `"${p}"`).join(', ')}`, HELP_HINT);
  }
  if (options.push && options.local) {
    throw new RunDockerError(
      '--push and --local contradict each other: --local means no network',
      'Leave one of them out.',
    );
  }
  if ((options.platforms?.length ?? 0) > 1 && !options.push) {
    throw new RunDockerError(
      `--platform ${options.platforms!.join(',')} builds one image per platform, which only a registry holds under one tag`,
      'Add --push (the images are pushed as one index per image), or name one platform.',
    );
  }
  if (positionals[0] !== undefined) options.repository = positionals[0];
  return { kind: 'build', options };
}

/** `linux/amd64,linux/arm64` → each platform once, checked as `os/arch[/variant]`. */
function parsePlatforms(value: string | undefined): string[] {
  if (value === undefined || value === '')
    throw new RunDockerError('--platform needs a platform', 'Write it as --platform linux/amd64,linux/arm64.');
  const platforms = [...new Set(value.split(',').map((platform) => platform.trim().toLowerCase()))];
  const bad = platforms.find((platform) => !/^[a-z0-9]+\/[a-z0-9_]+(?:\/v[0-9]+)?$/.test(platform));
  if (bad !== undefined)
    throw new RunDockerError(
      `--platform "${bad}" is not a platform`,
      'Name platforms as docker does, os/architecture[/variant]: --platform linux/amd64,linux/arm64.',
    );
  return platforms;
}
