/**
 * Which CLI starts the container, so that it speaks to the engine that resolved the tag and
 * read the image's user: one engine per call (docs/engines.md). Chosen, not assumed:
 *
 * - the `cli` setting (RUN_DOCKER_CLI, or "cli" in the config file) when given;
 * - else, for Podman behind a socket on this host, Podman's own CLI when it is installed
 *   (`podman --remote --url SOCKET`: exactly that engine, docker-identical exit codes,
 *   `--userns=keep-id` for rootless Podman, an init path of its choice);
 * - else the docker CLI, told the engine's address when the shim found it itself.
 *
 * A split is refused in one line: a `docker` on PATH that is Podman's wrapper (podman-docker:
 * `exec /usr/bin/podman "$@"`) in front of a Docker engine, or the podman CLI for an engine
 * that is not Podman. Pure: main.ts looks at PATH (find-engine-clis.ts).
 */
import type { EngineCli, EngineEndpointInUse, EngineIdentity } from '../../contract/contract';
import { RunDockerError } from '../../common/run-docker-error';
import { describeIdentity } from './read-engine-mode';

/** What PATH holds. */
export interface CliOnPath {
  /** `docker`, and when it is Podman's wrapper (or a link to podman), the podman it runs. */
  docker?: { path: string; runsPodman?: string };
  podman?: string;
}

export interface EngineCliChoice {
  cli: EngineCli;
  /** What to start (an absolute path). */
  file: string;
  /** Before `run`: how the podman CLI reaches the engine. */
  globalArgs: string[];
  /** Added to the CLI's environment: where the docker CLI finds an engine the shim found itself. */
  env: Record<string, string>;
  /**
   * The docker CLI on Podman: `docker run --rm` loses the exit code (Podman before 4.6 answers
   * the CLI's wait after removing the container: exit 0), and a start that fails leaves the
   * container behind. So no --rm: the CLI waits for the exit, then the container is removed.
   */
  removeAfterExit: boolean;
}

export interface SelectEngineCliInput {
  setting?: { value: EngineCli; source: string };
  identity: EngineIdentity;
  endpoint: EngineEndpointInUse;
  onPath: CliOnPath;
}

export function selectEngineCli({ setting, identity, endpoint, onPath }: SelectEngineCliInput): EngineCliChoice {
  const podman = onPath.podman ?? onPath.docker?.runsPodman;
  const engine = `the engine at "${endpoint.host}" (${describeIdentity(identity)})`;
  const overSocket = endpoint.host.startsWith('unix://');
  if (identity.kind === 'podman') {
    const realDocker = onPath.docker?.runsPodman === undefined ? onPath.docker?.path : undefined;
    const wanted =
      setting?.value ?? (podman !== undefined && (overSocket || realDocker === undefined) ? 'podman' : 'docker');
    if (wanted === 'docker' && realDocker !== undefined)
      return { cli: 'docker', file: realDocker, globalArgs: [], env: foundEnv(endpoint), removeAfterExit: true };
    // The podman CLI: asked for, or the only one there is (a `docker` that is Podman's wrapper included).
    if (podman === undefined)
      throw wanted === 'podman' && realDocker !== undefined
        ? new RunDockerError(
            `the "podman" command is not installed or not on PATH, and ${setting?.source ?? 'the setting'} asks for it`,
            'Install Podman (Debian: apt-get install podman), or set RUN_DOCKER_CLI=docker.',
          )
        : new RunDockerError(
            `neither the "podman" nor the "docker" command is on PATH to start containers on ${engine}`,
            'Install Podman (Debian: apt-get install podman), or the Docker CLI (apt-get install docker.io).',
          );
    if (!overSocket && !endpoint.host.startsWith('tcp://'))
      throw new RunDockerError(
        `the podman CLI cannot reach ${engine} the way the docker CLI does`,
        'Install the Docker CLI for this engine, or point DOCKER_HOST at a Podman socket on this host.',
      );
    return {
      cli: 'podman',
      file: podman,
      // A service run-docker started for this call is this user's own Podman, which the
      // podman CLI reaches by itself; --url would name a socket gone after the call.
      globalArgs: endpoint.found === 'podman-service' ? [] : ['--remote', '--url', endpoint.host],
      env: {},
      removeAfterExit: false,
    };
  }
  if (setting?.value === 'podman')
    throw new RunDockerError(
      `the podman CLI (${setting.source}) cannot start containers on ${engine}: the container would run in another engine than the one that chose its image`,
      'Unset it to use the docker CLI, or point DOCKER_HOST at a Podman socket (unix:///run/podman/podman.sock, or $XDG_RUNTIME_DIR/podman/podman.sock) to use Podman throughout.',
    );
  if (onPath.docker?.runsPodman !== undefined)
    throw new RunDockerError(
      `the "docker" command on PATH (${onPath.docker.path}) runs Podman, but ${engine} chose the image: the container would run in another engine`,
      'Put the Docker CLI first on PATH, or use Podman throughout: point DOCKER_HOST at its socket (unix:///run/podman/podman.sock, or $XDG_RUNTIME_DIR/podman/podman.sock).',
    );
  return { ...dockerCli(onPath, engine), removeAfterExit: false, env: foundEnv(endpoint) };
}

function dockerCli(onPath: CliOnPath, engine: string): { cli: EngineCli; file: string; globalArgs: string[] } {
  if (onPath.docker === undefined || onPath.docker.runsPodman !== undefined)
    throw new RunDockerError(
      `the "docker" command is not installed or not on PATH, and ${engine} needs it`,
      onPath.podman !== undefined
        ? 'Install the Docker CLI (Debian: apt-get install docker.io); the podman CLI can start containers only on a Podman engine.'
        : 'Install the Docker CLI (Debian: apt-get install docker.io).',
    );
  return { cli: 'docker', file: onPath.docker.path, globalArgs: [] };
}

/** The docker CLI finds DOCKER_HOST and contexts itself; only an engine the shim found must be named. */
function foundEnv(endpoint: EngineEndpointInUse): Record<string, string> {
  return endpoint.found ? { DOCKER_HOST: endpoint.host } : {};
}
