/**
 * Asks a Docker credential helper for one registry's credentials, as the Docker CLI does
 * (https://github.com/docker/docker-credential-helpers#usage): run
 * `docker-credential-<name> get` with no shell, write the server URL to its stdin, read
 * `{"ServerURL", "Username", "Secret"}` from its stdout. Nothing the helper writes is ever
 * repeated in a message: its output may hold the secret.
 */

/** What a helper answered: credentials, or that it has none for this server. */
export type HelperAnswer = { found: true; username: string; secret: string } | { found: false };

export interface CredentialHelperOptions {
  env: Readonly<Record<string, string | undefined>>;
  /** Helpers may unlock a keychain; give up after this long. */
  timeoutMs?: number;
}

/** Thrown when a helper cannot be run or answers nonsense; the message names the helper only. */
export class CredentialHelperFailed extends Error {
  override name = 'CredentialHelperFailed';
}

const NOT_FOUND = /credentials not found/i;
const MAX_OUTPUT_BYTES = 64 * 1024;

export async function runCredentialHelper(
  helper: string,
  serverUrl: string,
  options: CredentialHelperOptions,
): Promise<HelperAnswer> {
  const program = `docker-credential-${helper}`;
  const { code, stdout, error } = await runGet(program, serverUrl, options);
  if (error) throw new CredentialHelperFailed(`"${program}" could not be run (${error})`);
  // The protocol's "no credentials" answer is this message on stdout with a non-zero exit.
  if (code !== 0) {
    if (NOT_FOUND.test(stdout)) return { found: false };
    throw new CredentialHelperFailed(`"${program} get" exited with code ${code}`);
  }
  return parseHelperAnswer(stdout, program);
}

/** Parses a helper's `get` answer; exported for unit tests. */
export function parseHelperAnswer(stdout: string, program: string): HelperAnswer {
  let body: unknown;
  try {
    body = JSON.parse(stdout);
  } catch {
    throw new CredentialHelperFailed(`"${program} get" did not answer with JSON`);
  }
  const { Username: username, Secret: secret } = (typeof body === 'object' && body !== null ? body : {}) as Record<
    string,
    unknown
  >;
  if (typeof secret !== 'string' || (username !== undefined && typeof username !== 'string')) {
    throw new CredentialHelperFailed(`"${program} get" answered without a usable "Secret"`);
  }
  return { found: true, username: username ?? '', secret };
}

interface HelperRun {
  code: number | null;
  stdout: string;
  /** Why it could not run at all (ENOENT, a timeout, too much output). */
  error?: string;
}

function runGet(program: string, serverUrl: string, options: CredentialHelperOptions): Promise<HelperRun> {
  return new Promise((resolve) => {
    // node:child_process loads only when a helper is configured (the tiny payload never spawns otherwise).
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy: only a configured helper spawns
    const { spawn } = require('node:child_process') as typeof import('node:child_process');
    // Its own process group (POSIX), so that what it starts can be ended with it: a helper's
    // children (a keychain agent it waits on, a `sleep` in a script) must not outlive the call.
    // A helper that daemonizes on purpose (gpg-agent) leaves the group itself, and lives on.
    const ownGroup = process.platform !== 'win32';
    const child = spawn(program, ['get'], { env: options.env, stdio: ['pipe', 'pipe', 'ignore'], detached: ownGroup });
    const endGroup = () => {
      if (child.pid === undefined) return;
      try {
        if (ownGroup) process.kill(-child.pid, 'SIGKILL');
        else child.kill('SIGKILL');
      } catch {
        // Gone already.
      }
    };
    const chunks: Buffer[] = [];
    let size = 0;
    let failure: string | undefined;
    let settled = false;
    const settle = (run: HelperRun) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(run);
    };
    // Not spawn's `timeout`: a helper's own children can hold stdout open long after it is killed.
    const timer = setTimeout(() => {
      endGroup();
      child.stdout.destroy();
      settle({ code: null, stdout: '', error: 'it timed out' });
    }, options.timeoutMs ?? 30_000);
    child.stdout.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_OUTPUT_BYTES) {
        failure = 'it wrote too much';
        endGroup();
        return;
      }
      chunks.push(chunk);
    });
    // A helper that exits without reading stdin makes our write fail with EPIPE: not our error.
    child.stdin.on('error', () => {});
    child.stdin.end(serverUrl);
    child.on('error', (error: NodeJS.ErrnoException) => {
      failure ??= error.code === 'ENOENT' ? 'it is not on PATH' : (error.code ?? 'spawn failed');
    });
    // The helper has answered (or died): what it left running goes too, and with it any
    // hold on our end of its stdout, so 'close' comes now rather than at the time limit.
    child.on('exit', endGroup);
    child.on('close', (code, signal) => {
      if (signal && !failure) failure = `killed by ${signal}`;
      settle({ code, stdout: Buffer.concat(chunks).toString('utf8'), error: failure });
    });
  });
}
