// A private OpenSSH server on 127.0.0.1 that lets one throw-away key in as the current
// user: with the docker CLI on this host, it is a "remote" engine for DOCKER_HOST=ssh://.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
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
  /** The server's host key as a known_hosts line (`[127.0.0.1]:PORT ssh-ed25519 …`). */
  knownHostsLine: string;
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
  const [keyType, keyData] = (await readFile(path.join(dir, 'host_key.pub'), 'utf8')).trim().split(/\s+/);
  return {
    host: `ssh://${user}@127.0.0.1:${port}`,
    clientHome,
    knownHostsLine: `[127.0.0.1]:${port} ${keyType} ${keyData}`,
    log: () => output,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** What the system's ssh may use, in a configuration of its own (useSshClient). */
export interface SshClientSetup {
  /** Host keys it knows (known_hosts lines); none: every host is unknown. */
  knownHosts: string[];
  /** The private key it offers. */
  identityFile: string;
}

/**
 * Environment entries that make the system's ssh use `setup` (a folder first in PATH whose
 * `ssh` runs /usr/bin/ssh -F with a config written in `dir`). OpenSSH takes `~` from the user
 * database, not HOME, so a test cannot give it its own known_hosts and key any other way;
 * ssh itself, its host-key check and its authentication are the real ones.
 */
export async function useSshClient(dir: string, setup: SshClientSetup): Promise<Record<string, string>> {
  const bin = path.join(dir, 'bin');
  await mkdir(bin, { recursive: true });
  await writeFile(path.join(dir, 'known_hosts'), setup.knownHosts.map((line) => `${line}\n`).join(''));
  const config = [
    'Host *',
    `  UserKnownHostsFile ${path.join(dir, 'known_hosts')}`,
    '  GlobalKnownHostsFile /dev/null',
    '  StrictHostKeyChecking yes',
    `  IdentityFile ${setup.identityFile}`,
    '  IdentitiesOnly yes',
    '  IdentityAgent none',
    '  BatchMode yes',
    '',
  ].join('\n');
  await writeFile(path.join(dir, 'ssh_config'), config);
  await copyFile(path.join(__dirname, 'ssh-with-test-config.sh'), path.join(bin, 'ssh'));
  await chmod(path.join(bin, 'ssh'), 0o755);
  return {
    PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    RUN_DOCKER_TEST_SSH_CONFIG: path.join(dir, 'ssh_config'),
  };
}
