import { defaultEngineHost, redactHost } from './engine/select-engine-endpoint';
import { RunDockerError } from './run-docker-error';

interface SystemErrorLike {
  code?: string;
  syscall?: string;
  address?: string;
  statusCode?: number;
  /** What ssh said last when it ended without an answer (dial-over-ssh.ts). */
  said?: string;
  /** The light client's timeout (light-engine-client.ts): the bound and the call that hit it. */
  timeoutMs?: number;
  call?: string;
  /** The body of an answer outside 2xx: JSON (`{message}`) or its text (light-engine-client.ts, dockerode). */
  json?: unknown;
  /** socket-get.ts's bound on an answer read whole, when one passed it. */
  limitBytes?: number;
  message?: string;
}

/** Where the engine was looked for, as the shim resolved it (EngineEndpoint). */
export interface EngineAddress {
  host: string;
  source: string;
}

/** Where the engine is expected, quoted, with what chose it: `"tcp://h:2376" set by DOCKER_HOST`.
 *  Never includes credentials. */
export function describeEngineAddress(
  env: Readonly<Record<string, string | undefined>>,
  endpoint?: EngineAddress,
): string {
  if (endpoint) {
    const found = /^(?:Podman socket|podman system service)/.test(endpoint.source);
    const by = endpoint.source === 'default' ? '' : found ? ` (${endpoint.source})` : ` set by ${endpoint.source}`;
    return `"${redactHost(endpoint.host)}"${by}`;
  }
  if (env.DOCKER_HOST) return `"${redactHost(env.DOCKER_HOST)}" set by DOCKER_HOST`;
  return env.DOCKER_CONTEXT ? `the docker context "${env.DOCKER_CONTEXT}"` : `"${defaultEngineHost()}"`;
}

/** What the engine said in a failed answer (`{"message": …}`, or its text), on one line and at most 300 characters. */
function describeEngineWords(error: SystemErrorLike): string {
  const json = error.json;
  const said =
    typeof json === 'object' && json !== null && 'message' in json
      ? String(json.message)
      : typeof json === 'string'
        ? json
        : '';
  const line = said.replace(/\s+/g, ' ').trim();
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

/**
 * The engine's HTTP 400 to a request that names an image (GET /images/{name}/json, POST
 * /images/create): it refused the reference's format, though run-docker's parser took it
 * (image-ref.ts follows distribution/reference as it is now). Docker 20.10 answers "invalid
 * reference format" for any IPv6 address as the registry, `[::1]:5000/app` and
 * `[::ffff:7f00:1]:5000/app` (how URL writes `[::ffff:127.0.0.1]`) alike: only an engine
 * knows what it takes, so it is asked, and its refusal is one line. Undefined for anything
 * else, so callers rethrow the original.
 */
export function toReferenceRefusal(error: unknown, reference: string): RunDockerError | undefined {
  const e = error as SystemErrorLike;
  if (e?.statusCode !== 400) return undefined;
  // dockerd's words repeat the reference ("no such image: REF: invalid reference format"): the gist is enough.
  const said = describeEngineWords(e).replace(/^.*(invalid reference format)$/is, '$1');
  const message = `the engine refused the format of the image reference "${reference}" (HTTP 400${said ? `: ${said}` : ''})`;
  const registry = /^\[([0-9a-fA-F:]+)\](:\d+)?\//.exec(reference);
  if (!registry)
    return new RunDockerError(
      message,
      'Write it as the engine accepts it, [registry/]name[:tag][@sha256:digest], with the registry a host name or an IPv4 address (for example "127.0.0.1:5000/team/app:1.2.0").',
    );
  const ipv4 = mapIPv4(registry[1] ?? '');
  const rewritten = ipv4 && `${ipv4}${registry[2] ?? ''}/${reference.slice(registry[0].length)}`;
  return new RunDockerError(
    message,
    `Write its registry as the engine accepts it: a host name or an IPv4 address${rewritten ? `, here "${rewritten}"` : ''} (Docker 20.10 takes no IPv6 address in a reference).`,
  );
}

/** Pure: the IPv4 address an IPv4-mapped IPv6 address (`::ffff:7f00:1`, as URL writes it) stands for, else undefined. */
function mapIPv4(address: string): string | undefined {
  const mapped = /^(?:::|(?:0{1,4}:){5})ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (!mapped) return undefined;
  const high = Number.parseInt(mapped[1] ?? '', 16);
  const low = Number.parseInt(mapped[2] ?? '', 16);
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
}

/**
 * Whether the address is Podman's socket (podman.socket, `podman system service`, or one run-docker
 * started: find-podman-endpoint.ts), so that a message names Podman and its remedies, not Docker's.
 */
export function isPodmanAddress(endpoint: EngineAddress | undefined): boolean {
  if (!endpoint) return false;
  return (
    /\/podman(?:\.sock|\/podman\.sock)$/.test(endpoint.host) ||
    /^(?:Podman socket|podman system service)/.test(endpoint.source)
  );
}

const PODMAN_REMEDY =
  'use your own rootless Podman: unset DOCKER_HOST, and run-docker finds $XDG_RUNTIME_DIR/podman/podman.sock or starts "podman system service" itself';

/** Node's TLS failures: the engine's certificate, or the handshake itself. */
const TLS_FAILURES = new Set([
  'EPROTO',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
  'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
  'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
]);

/**
 * Turns a failure to reach the engine into one actionable line; returns undefined for
 * anything else so callers rethrow the original.
 */
export function toEngineConnectionError(
  error: unknown,
  env: Readonly<Record<string, string | undefined>>,
  endpoint?: EngineAddress,
): RunDockerError | undefined {
  const e = error as SystemErrorLike;
  const where = describeEngineAddress(env, endpoint);
  // A payload under an older shim knows the address only from the environment.
  const podman = isPodmanAddress(
    endpoint ?? (env.DOCKER_HOST ? { host: env.DOCKER_HOST, source: 'DOCKER_HOST' } : undefined),
  );
  if (e?.code && TLS_FAILURES.has(e.code)) {
    return new RunDockerError(
      `the TLS handshake with the Docker engine at ${where} failed (${e.code})`,
      "Check the CA and client certificate (ca.pem, cert.pem, key.pem in DOCKER_CERT_PATH, or the docker context's TLS files) and that the engine's certificate names this host.",
    );
  }
  // The engine answered, and failed (HTTP 5xx: a full disk, a broken image store, a daemon
  // bug): its own words, where it stands and which call, not "unexpected error … report it".
  // A 4xx is left to its caller: for run-docker's own requests it is a bug to report.
  if (typeof e?.statusCode === 'number' && e.statusCode >= 500 && e.statusCode < 600) {
    const said = describeEngineWords(e);
    return new RunDockerError(
      `the Docker engine at ${where} failed (HTTP ${e.statusCode}${e.call ? ` to ${e.call}` : ''})${said ? `: ${said}` : ''}`,
      'The engine says why: check its log ("journalctl -u docker", or "docker info" for its state), fix what it names, and run again.',
    );
  }
  if (e?.code === 'ENOENT' && e.syscall === 'spawn ssh') {
    return new RunDockerError(
      `there is no ssh program to reach the Docker engine at ${where}`,
      "Install OpenSSH's client (ssh): run-docker reaches ssh:// engines through it, as the docker CLI does.",
    );
  }
  switch (e?.code) {
    // dial-over-ssh.ts's code, written out like the light client's below.
    case 'ERR_RUN_DOCKER_SSH':
      return explainSshFailure(e.said ?? e.message ?? '', where);
    // The light client's code, written out: importing it would pull the client into every bundle that explains errors.
    case 'ERR_RUN_DOCKER_ENGINE_TIMEOUT':
      return new RunDockerError(
        `${podman ? 'Podman' : 'the Docker engine'} at ${where} did not answer within ${(e.timeoutMs ?? 0) / 1000} s (${e.call})`,
        `Check that it is running and not overloaded ("${podman ? 'podman' : 'docker'} info" must answer), or raise RUN_DOCKER_ENGINE_TIMEOUT_MS on a slow engine.`,
      );
    // socket-get.ts's code for an answer read whole that passed its bound.
    case 'ERR_RUN_DOCKER_ENGINE_ANSWER_TOO_LARGE':
      return new RunDockerError(
        `the Docker engine at ${where} sent an answer larger than ${(e.limitBytes ?? 0) / 1024 / 1024} MiB (${e.call}); run-docker stopped reading it`,
        'Check that DOCKER_HOST, or the docker context, points at a Docker engine; if it lists tens of thousands of images, remove unused ones ("docker image prune").',
      );
    // socket-get.ts's code for an answer that is not HTTP: something other than an engine listens there.
    case 'ERR_RUN_DOCKER_ENGINE_ANSWER':
      return new RunDockerError(
        `what answers at ${where} is not a Docker engine: ${e.message ?? 'its answer is not HTTP'}`,
        'Point DOCKER_HOST, or the docker context, at the Docker engine\'s socket ("docker context ls" shows where the docker CLI goes).',
      );
    case 'ENOENT':
    case 'ECONNREFUSED':
    case 'ECONNRESET':
    case 'EHOSTUNREACH':
    case 'ENOTFOUND':
    case 'ETIMEDOUT':
      if (e.syscall && !['connect', 'read', 'getaddrinfo'].includes(e.syscall)) return undefined;
      if (podman)
        return new RunDockerError(
          `cannot reach Podman at ${where} (${e.code})`,
          `Start its service ("systemctl --user enable --now podman.socket", or as root "systemctl enable --now podman.socket"), or ${PODMAN_REMEDY}.`,
        );
      return new RunDockerError(
        `cannot reach the Docker engine at ${where} (${e.code})`,
        'Start it (for example "sudo dockerd" or "sudo systemctl start docker") or point DOCKER_HOST at a running engine.',
      );
    case 'EACCES':
    case 'EPERM':
      if (podman)
        return new RunDockerError(
          `permission denied on the Podman socket ${where}`,
          `It belongs to the user who runs that Podman (rootful Podman's is root's): run as that user, or ${PODMAN_REMEDY}.`,
        );
      return new RunDockerError(
        `permission denied on the Docker engine socket ${where}`,
        'Add your user to the "docker" group (then log in again) or run as a user who may use Docker.',
      );
    default:
      return undefined;
  }
}

/** What ssh's last line means, as one line with the next step (`said` is printed, made printable). */
function explainSshFailure(said: string, where: string): RunDockerError {
  const line = said
    .replace(/[^\x20-\x7e]+/g, ' ')
    .trim()
    .slice(0, 300);
  const check = 'check that "ssh HOST docker system dial-stdio" works (the docker CLI runs the same)';
  if (/host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/i.test(line))
    return new RunDockerError(
      `the ssh host key of the Docker engine at ${where} could not be verified (ssh: ${line})`,
      `Check the host's key and record it in ~/.ssh/known_hosts (connecting once with "ssh HOST" asks), then ${check}.`,
    );
  if (/permission denied/i.test(line))
    return new RunDockerError(
      `the ssh server of the Docker engine at ${where} refused every key offered (ssh: ${line})`,
      `Add your key to ssh-agent (ssh-add) or to ~/.ssh (id_ed25519, id_ecdsa, id_rsa), and ${check}.`,
    );
  if (/command not found|no such file or directory|not recognized/i.test(line))
    return new RunDockerError(
      `the host of the Docker engine at ${where} has no docker CLI to run "docker system dial-stdio" (ssh: ${line})`,
      `Install the docker CLI on that host (its dial-stdio command carries the connection), then ${check}.`,
    );
  return new RunDockerError(
    `cannot reach the Docker engine at ${where} through ssh (ssh: ${line})`,
    `Check the host, port and user in the address, then ${check}.`,
  );
}
