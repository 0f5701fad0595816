// A private OpenSSH server on 127.0.0.1 that lets one throw-away key in as the current
// user: with the docker CLI on this host, it is a "remote" engine for DOCKER_HOST=ssh://.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { runCommand } from './fixtures';
import { freePort } from './listen';

export interface SshServer {
  /** `ssh://USER@127.0.0.1:PORT` */
  host: string;
  /** A HOME whose ~/.ssh/id_ed25519 the server accepts. */
  clientHome: string;
  /** What sshd logged so far (it logs each accepted key). */
  log(): string;
  stop(): Promise<void>;
}

async function waitForPort(port: number, child: ChildProcess, output: () => string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    if (child.exitCode !== null) throw new Error(`sshd exited with ${child.exitCode}:\n${output()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => resolve(true));
      socket.on('error', () => resolve(false));
      socket.on('connect', () => socket.destroy());
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`sshd did not listen on 127.0.0.1:${port}:\n${output()}`);
}

export interface SshServerOptions {
  /** The HOME whose ~/.ssh gets the key (default: DIR/client-home). */
  clientHome?: string;
  /**
   * Run sshd in the mount namespace of this process (nsenter): its sessions, and the docker
   * CLI they start, see that namespace's files (tests/helpers/second-engine.ts). DIR must be
   * visible there too.
   */
  mountNamespaceOf?: number;
}

export async function startSshServer(dir: string, serverOptions: SshServerOptions = {}): Promise<SshServer> {
  const keygen = (file: string) =>
    runCommand('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'run-docker-test', '-f', file], { check: true });
  const clientHome = serverOptions.clientHome ?? path.join(dir, 'client-home');
  await mkdir(path.join(clientHome, '.ssh'), { recursive: true, mode: 0o700 });
  await keygen(path.join(dir, 'host_key'));
  await keygen(path.join(clientHome, '.ssh', 'id_ed25519'));
  await writeFile(path.join(dir, 'authorized_keys'), await readFile(path.join(clientHome, '.ssh', 'id_ed25519.pub')));
  // sshd refuses to start without its privilege-separation folder (the service would make it).
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const port = await freePort();
  const user = os.userInfo().username;
  const options = {
    ListenAddress: '127.0.0.1',
    HostKey: path.join(dir, 'host_key'),
    AuthorizedKeysFile: path.join(dir, 'authorized_keys'),
    PidFile: 'none',
    UsePAM: 'no',
    StrictModes: 'no',
    PasswordAuthentication: 'no',
    KbdInteractiveAuthentication: 'no',
    PermitRootLogin: 'prohibit-password',
    LogLevel: 'INFO',
  };
  const args = [
    '-D',
    '-e',
    '-f',
    '/dev/null',
    '-p',
    String(port),
    ...Object.entries(options).flatMap(([key, value]) => ['-o', `${key}=${value}`]),
  ];
  // sshd re-executes itself, so it must be started by its absolute path; nsenter execs it.
  const namespace = serverOptions.mountNamespaceOf;
  const child =
    namespace === undefined
      ? spawn('/usr/sbin/sshd', args, { stdio: ['ignore', 'ignore', 'pipe'] })
      : spawn('nsenter', ['--mount', '--target', String(namespace), '--', '/usr/sbin/sshd', ...args], {
          stdio: ['ignore', 'ignore', 'pipe'],
        });
  let output = '';
  child.stderr.on('data', (chunk) => (output += chunk));
  await waitForPort(port, child, () => output);
  return {
    host: `ssh://${user}@127.0.0.1:${port}`,
    clientHome,
    log: () => output,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
