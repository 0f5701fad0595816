/**
 * An engine at `ssh://[user@]host[:port]` reached as the docker CLI reaches it: the system's
 * `ssh` runs `docker system dial-stdio` on that host, and the Engine API's bytes go through
 * its stdin and stdout (docker/cli's connhelper: `ssh -o ConnectTimeout=30 -T -l USER -p PORT
 * -- HOST docker system dial-stdio`). So ssh itself authenticates both ends: the user's keys,
 * agent and ~/.ssh/config, and the host's key against known_hosts, which the ssh2 library
 * dockerode used did not check. ssh may ask on the terminal (a passphrase, an unknown host
 * key) as it does for the docker CLI; what it prints on stderr becomes the error when it ends
 * without an answer.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { Duplex } from 'node:stream';

/** Code of the error a connection fails with when ssh ends before the engine answered (engine-error.ts). */
export const SSH_FAILED_CODE = 'ERR_RUN_DOCKER_SSH';

/** What ssh printed last is enough to say why; more than this is not read. */
const MAX_STDERR_BYTES = 16 * 1024;

type Spawn = (
  command: string,
  args: string[],
  options: { stdio: ['pipe', 'pipe', 'pipe'] },
) => ChildProcessWithoutNullStreams;

/** Pure: ssh's arguments for `ssh://[user@]host[:port]`, as the docker CLI builds them. */
export function buildSshArgs(host: string): string[] {
  const url = new URL(host);
  const user = decodeURIComponent(url.username);
  const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return [
    '-o',
    'ConnectTimeout=30',
    '-T',
    ...(user ? ['-l', user] : []),
    ...(url.port ? ['-p', url.port] : []),
    '--',
    hostname,
    'docker',
    'system',
    'dial-stdio',
  ];
}

/** A connection to the engine at `host` (ssh://…) for node:http's `createConnection`: one ssh process per connection. */
export function dialOverSsh(host: string, spawn: Spawn = loadSpawn()): Duplex {
  return new SshConnection(spawn('ssh', buildSshArgs(host), { stdio: ['pipe', 'pipe', 'pipe'] }));
}

function loadSpawn(): Spawn {
  // Loaded here: only ssh engines start a process to reach the engine.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy: node:child_process only for ssh engines
  const { spawn } = require('node:child_process') as typeof import('node:child_process');
  return (command, args, options) => spawn(command, args, options);
}

/**
 * ssh's stdout and stdin as one duplex stream, with the parts of a socket node:http uses
 * (setTimeout, setNoDelay, setKeepAlive, ref, unref). Destroying it ends ssh.
 */
class SshConnection extends Duplex {
  private stderr = '';
  private answered = false;
  private idle: NodeJS.Timeout | undefined;
  private idleMs = 0;

  constructor(private readonly child: ChildProcessWithoutNullStreams) {
    super();
    const { stdout, stdin, stderr } = child;
    stdout.on('data', (chunk: Buffer) => {
      this.answered = true;
      this.touch();
      if (!this.push(chunk)) stdout.pause();
    });
    stderr.on('data', (chunk: Buffer) => {
      if (this.stderr.length < MAX_STDERR_BYTES) this.stderr += chunk.toString('utf8');
    });
    stdin.on('error', () => undefined); // ssh gone: its exit says why
    child.on('error', (error) => this.destroy(error));
    // The stream ends when ssh has exited (its stdout ends first): by then its exit code and
    // stderr say whether the engine was reached at all.
    child.on('close', (code) => {
      if (this.answered || code === 0) {
        this.push(null);
        return;
      }
      const said = this.stderr.trim().split('\n').filter(Boolean).pop() ?? `ssh exited with ${code}`;
      this.destroy(Object.assign(new Error(said), { code: SSH_FAILED_CODE, exitCode: code, said }));
    });
  }

  override _read(): void {
    this.child.stdout.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.touch();
    this.child.stdin.write(chunk, done);
  }

  override _final(done: (error?: Error | null) => void): void {
    this.child.stdin.end(() => done());
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    clearTimeout(this.idle);
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill();
    done(error);
  }

  /** As net.Socket's: 'timeout' after `ms` without bytes either way (0: never). */
  setTimeout(ms: number, onTimeout?: () => void): this {
    this.idleMs = ms;
    if (onTimeout) this.once('timeout', onTimeout);
    this.touch();
    return this;
  }

  setNoDelay(): this {
    return this;
  }

  setKeepAlive(): this {
    return this;
  }

  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }

  private touch(): void {
    clearTimeout(this.idle);
    if (this.idleMs > 0) this.idle = setTimeout(() => this.emit('timeout'), this.idleMs);
  }
}
