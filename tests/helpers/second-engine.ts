// A second real Docker engine that sees other files than this host (scripts/second-engine:
// Debian's dockerd in mount and network namespaces of its own, with /tmp, /root, /home, /run
// and /etc/docker hidden), reached the ways an engine on another host is: tcp://127.0.0.1
// through a relay to its socket, and ssh://127.0.0.1 to an sshd that runs in its mount
// namespace, where `docker system dial-stdio` finds it at /run/docker.sock.
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ROOT } from './shim';
import { runCommand, type CommandResult } from './fixtures';
import { startTcpEngineRelay, type EngineProxy } from './engine-proxy';
import { startSshServer, type SshServer } from './ssh-server';

export interface SecondEngine {
  /** `tcp://127.0.0.1:PORT`, relayed to its socket. */
  tcpHost: string;
  /** The engine's own folder (visible to both hosts; outside what it hides). */
  dir: string;
  /** The docker CLI against it. */
  docker(args: string[], input?: Buffer | string): Promise<CommandResult>;
  /** A command run with its files (nsenter --mount), e.g. to make or read a folder on its host. */
  onItsHost(args: string[]): Promise<CommandResult>;
  /** Copies images of the main engine onto it (docker save | docker load). */
  copyImages(references: string[]): Promise<void>;
  /**
   * An sshd on 127.0.0.1 that lets `clientHome`'s new key in, with the second engine's files:
   * `env` is what a run through it needs (DOCKER_HOST, and PATH with an `ssh` that uses that
   * key and no known_hosts, for the docker CLI, which reads the key from the user database's
   * home, not HOME).
   */
  startSsh(clientHome: string): Promise<{ server: SshServer; env: Record<string, string> }>;
  stop(): Promise<void>;
}

const SCRIPT = path.join(ROOT, 'scripts', 'second-engine');

export async function startSecondEngine(): Promise<SecondEngine> {
  // Under /var/tmp: outside every folder the engine hides.
  const dir = `/var/tmp/run-docker-second-engine-${process.pid}`;
  const started = await runCommand(SCRIPT, ['start', dir], { check: true, timeoutMs: 90_000 });
  const pid = Number(started.stdout.trim());
  const socket = path.join(dir, 'docker.sock');
  let relay: EngineProxy | undefined;
  const servers: SshServer[] = [];
  const docker = (args: string[], input?: Buffer | string) =>
    runCommand('docker', ['--host', `unix://${socket}`, ...args], { input, env: { DOCKER_CONTEXT: '' } });
  try {
    relay = await startTcpEngineRelay(socket);
  } catch (error) {
    await runCommand(SCRIPT, ['stop', dir]);
    throw error;
  }
  return {
    tcpHost: relay.host,
    dir,
    docker,
    onItsHost: (args) => runCommand('nsenter', ['--mount', '--target', String(pid), '--', ...args]),
    copyImages: async (references) => {
      const saved = path.join(dir, `images-${Date.now()}.tar`);
      await runCommand('docker', ['save', '--output', saved, ...references], { check: true });
      try {
        const loaded = await docker(['load', '--input', saved]);
        if (loaded.code !== 0) throw new Error(`docker load on the second engine failed: ${loaded.stderr}`);
      } finally {
        await rm(saved, { force: true });
      }
    },
    startSsh: async (clientHome) => {
      const serverDir = path.join(dir, `sshd-${servers.length}`);
      await mkdir(serverDir, { recursive: true });
      const server = await startSshServer(serverDir, { clientHome, mountNamespaceOf: pid });
      servers.push(server);
      const bin = path.join(clientHome, 'ssh-bin');
      await mkdir(bin, { recursive: true });
      const key = path.join(clientHome, '.ssh', 'id_ed25519');
      await writeFile(
        path.join(bin, 'ssh'),
        `#!/bin/sh\nexec /usr/bin/ssh -i '${key}' -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR "$@"\n`,
      );
      await chmod(path.join(bin, 'ssh'), 0o755);
      return { server, env: { DOCKER_HOST: server.host, PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}` } };
    },
    stop: async () => {
      for (const server of servers.splice(0)) await server.stop();
      await relay?.close();
      await runCommand(SCRIPT, ['stop', dir]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
