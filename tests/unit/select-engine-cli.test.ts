import type { EngineEndpointInUse, EngineIdentity } from '../../contract/contract';
import { parseWrapperScript } from '../../payload/run/find-engine-clis';
import { selectEngineCli, type CliOnPath } from '../../payload/run/select-engine-cli';

const PODMAN: EngineIdentity = { kind: 'podman', version: '4.3.1' };
const DOCKER: EngineIdentity = { kind: 'docker', version: '20.10.24+dfsg1' };
const socket: EngineEndpointInUse = { host: 'unix:///run/podman/podman.sock', source: 'DOCKER_HOST' };
const dockerSocket: EngineEndpointInUse = { host: 'unix:///var/run/docker.sock', source: 'default' };
const both: CliOnPath = { docker: { path: '/usr/bin/docker' }, podman: '/usr/bin/podman' };
/** Debian's podman-docker: /usr/bin/docker is `exec /usr/bin/podman "$@"`. */
const podmanDocker: CliOnPath = {
  docker: { path: '/usr/bin/docker', runsPodman: '/usr/bin/podman' },
  podman: '/usr/bin/podman',
};

describe('selectEngineCli', () => {
  it("starts containers on Podman with Podman's CLI, pointed at exactly that engine", () => {
    expect(selectEngineCli({ identity: PODMAN, endpoint: socket, onPath: both })).toEqual({
      cli: 'podman',
      file: '/usr/bin/podman',
      globalArgs: ['--remote', '--url', 'unix:///run/podman/podman.sock'],
      env: {},
      removeAfterExit: false,
    });
    // A service run-docker started for the call is this user's own Podman: the CLI reaches it
    // by itself, and a printed --dry-run command names no socket that is gone after the call.
    const service = {
      host: 'unix:///run/user/1000/run-docker-podman-x/podman.sock',
      source: 's',
      found: 'podman-service' as const,
    };
    expect(selectEngineCli({ identity: PODMAN, endpoint: service, onPath: both }).globalArgs).toEqual([]);
    // podman-docker's `docker` is Podman: it is run as such, never as a docker CLI.
    expect(selectEngineCli({ identity: PODMAN, endpoint: socket, onPath: podmanDocker }).cli).toBe('podman');
  });

  it('uses the docker CLI on Podman when asked to, or when no podman is installed: no --rm, removed after the exit', () => {
    const setting = { value: 'docker' as const, source: 'env RUN_DOCKER_CLI' };
    expect(selectEngineCli({ setting, identity: PODMAN, endpoint: socket, onPath: both })).toEqual({
      cli: 'docker',
      file: '/usr/bin/docker',
      globalArgs: [],
      env: {},
      removeAfterExit: true,
    });
    expect(selectEngineCli({ identity: PODMAN, endpoint: socket, onPath: { docker: { path: '/d' } } })).toMatchObject({
      cli: 'docker',
      removeAfterExit: true,
    });
  });

  it('tells the docker CLI where an engine is that the shim found itself', () => {
    const found: EngineEndpointInUse = {
      host: 'unix:///run/user/1501/podman/podman.sock',
      source: 'Podman socket (no Docker socket at /var/run/docker.sock)',
      found: 'podman-socket',
    };
    const setting = { value: 'docker' as const, source: 'env RUN_DOCKER_CLI' };
    expect(selectEngineCli({ setting, identity: PODMAN, endpoint: found, onPath: both }).env).toEqual({
      DOCKER_HOST: 'unix:///run/user/1501/podman/podman.sock',
    });
    expect(selectEngineCli({ identity: DOCKER, endpoint: dockerSocket, onPath: both }).env).toEqual({});
  });

  it('keeps the docker CLI for Docker, and for a Podman it reaches over ssh, where podman --url would differ', () => {
    expect(selectEngineCli({ identity: DOCKER, endpoint: dockerSocket, onPath: both })).toEqual({
      cli: 'docker',
      file: '/usr/bin/docker',
      globalArgs: [],
      env: {},
      removeAfterExit: false,
    });
    // An engine that does not say what it is (an older shim) is taken for Docker.
    expect(
      selectEngineCli({ identity: { kind: 'other', version: '' }, endpoint: dockerSocket, onPath: both }).cli,
    ).toBe('docker');
    const ssh = { host: 'ssh://me@far', source: 'DOCKER_HOST' };
    expect(selectEngineCli({ identity: PODMAN, endpoint: ssh, onPath: both }).cli).toBe('docker');
    expect(() => selectEngineCli({ identity: PODMAN, endpoint: ssh, onPath: { podman: '/usr/bin/podman' } })).toThrow(
      /^the podman CLI cannot reach the engine at "ssh:\/\/me@far" \(Podman 4\.3\.1\)/,
    );
  });

  it('refuses a split in one line: a docker that runs Podman, or the podman CLI, in front of a Docker engine', () => {
    expect(() => selectEngineCli({ identity: DOCKER, endpoint: dockerSocket, onPath: podmanDocker })).toThrow(
      'the "docker" command on PATH (/usr/bin/docker) runs Podman, but the engine at "unix:///var/run/docker.sock" (Docker 20.10.24+dfsg1) chose the image: the container would run in another engine',
    );
    const setting = { value: 'podman' as const, source: 'env RUN_DOCKER_CLI' };
    expect(() => selectEngineCli({ setting, identity: DOCKER, endpoint: dockerSocket, onPath: both })).toThrow(
      /^the podman CLI \(env RUN_DOCKER_CLI\) cannot start containers on the engine at "unix:\/\/\/var\/run\/docker\.sock" \(Docker 20\.10\.24\+dfsg1\)/,
    );
  });

  it('says which command is missing', () => {
    expect(() => selectEngineCli({ identity: DOCKER, endpoint: dockerSocket, onPath: { podman: '/p' } })).toThrow(
      /^the "docker" command is not installed or not on PATH, and the engine at .* needs it/,
    );
    const setting = { value: 'podman' as const, source: 'file /c.json' };
    expect(() =>
      selectEngineCli({ setting, identity: PODMAN, endpoint: socket, onPath: { docker: { path: '/d' } } }),
    ).toThrow('the "podman" command is not installed or not on PATH, and file /c.json asks for it');
    expect(() => selectEngineCli({ identity: PODMAN, endpoint: socket, onPath: {} })).toThrow(
      /^neither the "podman" nor/,
    );
  });
});

describe('parseWrapperScript', () => {
  it("finds the podman a wrapper execs (Debian's podman-docker), and nothing in a binary or another script", () => {
    const debian =
      '#!/bin/sh\n[ -e /etc/containers/nodocker ] || \\\necho "Emulate Docker CLI using podman. Create /etc/containers/nodocker to quiet msg." >&2\nexec /usr/bin/podman "$@"\n';
    expect(parseWrapperScript(debian, undefined)).toBe('/usr/bin/podman');
    expect(parseWrapperScript('#!/bin/sh\nexec podman "$@"\n', '/opt/bin/podman')).toBe('/opt/bin/podman');
    expect(parseWrapperScript('\x7fELF\x02\x01\x01', '/usr/bin/podman')).toBeUndefined();
    expect(
      parseWrapperScript('#!/bin/sh\n# podman is not here\nexec /usr/libexec/docker/cli "$@"\n', undefined),
    ).toBeUndefined();
  });
});
