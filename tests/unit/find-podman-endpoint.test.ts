import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  choosePodmanFallback,
  findOnPath,
  podmanSocketCandidates,
  probeSocket,
  type PodmanFallbackFacts,
  type SocketState,
} from '../../common/engine/find-podman-endpoint';
import type { EngineEndpoint } from '../../common/engine/select-engine-endpoint';

const DEFAULT: EngineEndpoint = { host: 'unix:///var/run/docker.sock', source: 'default' };

function facts(
  sockets: Record<string, SocketState>,
  overrides: Partial<PodmanFallbackFacts> = {},
): PodmanFallbackFacts {
  return {
    platform: 'linux',
    uid: 1501,
    env: { XDG_RUNTIME_DIR: '/run/user/1501' },
    probe: (path) => sockets[path] ?? 'absent',
    findPodman: () => undefined,
    ...overrides,
  };
}

describe('choosePodmanFallback', () => {
  it('keeps a Docker socket this user can use, and never looks past DOCKER_HOST or a context', () => {
    expect(choosePodmanFallback(DEFAULT, facts({ '/var/run/docker.sock': 'usable' }))).toEqual({ kind: 'keep' });
    const rootless = { '/run/user/1501/podman/podman.sock': 'usable' as const };
    for (const source of ['DOCKER_HOST', 'context "x" (DOCKER_CONTEXT)'])
      expect(choosePodmanFallback({ host: 'unix:///nowhere.sock', source }, facts(rootless))).toEqual({ kind: 'keep' });
    // Podman on macOS lives in a VM (podman machine) with sockets of its own.
    expect(choosePodmanFallback(DEFAULT, facts(rootless, { platform: 'darwin' }))).toEqual({ kind: 'keep' });
  });

  it("takes the user's own rootless Podman socket first, then rootful Podman's, saying why", () => {
    const both = {
      '/var/run/docker.sock': 'denied' as const,
      '/run/user/1501/podman/podman.sock': 'usable' as const,
      '/run/podman/podman.sock': 'usable' as const,
    };
    expect(choosePodmanFallback(DEFAULT, facts(both))).toEqual({
      kind: 'socket',
      endpoint: {
        host: 'unix:///run/user/1501/podman/podman.sock',
        source: 'Podman socket (not allowed to use Docker socket at /var/run/docker.sock)',
        found: 'podman-socket',
      },
    });
    expect(choosePodmanFallback(DEFAULT, facts({ '/run/podman/podman.sock': 'usable' }))).toEqual({
      kind: 'socket',
      endpoint: {
        host: 'unix:///run/podman/podman.sock',
        source: 'Podman socket (no Docker socket at /var/run/docker.sock)',
        found: 'podman-socket',
      },
    });
  });

  it("starts Podman's service when Podman is installed and no socket answers for this user; else keeps the default", () => {
    const denied = { '/run/podman/podman.sock': 'denied' as const };
    expect(choosePodmanFallback(DEFAULT, facts(denied, { findPodman: () => '/usr/bin/podman' }))).toEqual({
      kind: 'service',
      podmanPath: '/usr/bin/podman',
      why: 'no Docker socket at /var/run/docker.sock',
    });
    expect(choosePodmanFallback(DEFAULT, facts(denied))).toEqual({ kind: 'keep' });
  });
});

describe('podmanSocketCandidates', () => {
  it("is rootful Podman's socket alone for root, and a relative XDG_RUNTIME_DIR is ignored", () => {
    expect(podmanSocketCandidates(0, { XDG_RUNTIME_DIR: '/run/user/0' })).toEqual(['/run/podman/podman.sock']);
    expect(podmanSocketCandidates(1000, { XDG_RUNTIME_DIR: 'run' })).toEqual(['/run/podman/podman.sock']);
    expect(podmanSocketCandidates(1000, {})).toEqual(['/run/podman/podman.sock']);
  });
});

describe('findOnPath', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'find-on-path-'));
    await writeFile(join(dir, 'podman'), '#!/bin/sh\n', { mode: 0o755 });
    await writeFile(join(dir, 'docker.exe'), '');
    await writeFile(join(dir, 'not-executable'), '', { mode: 0o644 });
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('finds an executable in an absolute PATH entry, never in a relative one', () => {
    expect(findOnPath('podman', { PATH: `relative:${dir}` }, 'linux')).toBe(join(dir, 'podman'));
    expect(findOnPath('not-executable', { PATH: dir }, 'linux')).toBeUndefined();
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      expect(findOnPath('podman', { PATH: '.' }, 'linux')).toBeUndefined();
    } finally {
      process.chdir(cwd);
    }
  });

  it("on Windows, takes the names PATHEXT adds (Docker Desktop's docker.exe)", () => {
    expect(findOnPath('docker', { PATH: dir, PATHEXT: '.COM;.EXE' }, 'win32')).toBe(join(dir, 'docker.exe'));
    expect(findOnPath('docker', { PATH: dir }, 'linux')).toBeUndefined();
  });
});

describe('probeSocket', () => {
  let dir: string;
  let server: Server;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'probe-socket-'));
    server = createServer();
    await new Promise<void>((resolve) => server.listen(join(dir, 'podman.sock'), resolve));
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it("takes a socket of this user or root, and no other user's: whoever listens chooses the images that run", async () => {
    const socket = join(dir, 'podman.sock');
    const me = { uid: process.getuid!(), gid: process.getgid!() };
    expect(probeSocket(socket, me)).toBe('usable');
    expect(probeSocket(join(dir, 'absent.sock'), me)).toBe('absent');
    expect(probeSocket(join(dir), me)).toBe('absent');
    if (me.uid === 0) {
      // As root here (the test machines): a socket another uid owns is refused.
      await chown(socket, 4321, 4321);
      expect(probeSocket(socket, me)).toBe('denied');
      await chown(socket, 0, 0);
    }
  });
});
