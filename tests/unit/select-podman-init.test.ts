import {
  containersConfFiles,
  DEFAULT_PODMAN_INIT_PATH,
  parseInitPath,
  selectPodmanInit,
} from '../../payload/run/select-podman-init';

describe('parseInitPath', () => {
  it('reads init_path from the [containers] table only, the last one winning', () => {
    const text = [
      '[engine]',
      'init_path = "/not/this"',
      '[containers]',
      '# init_path = "/commented"',
      "init_path = '/usr/bin/tini-static'  # a comment",
      '[network]',
      'init_path = "/nor/this"',
    ].join('\n');
    expect(parseInitPath(text)).toBe('/usr/bin/tini-static');
    expect(parseInitPath('[containers]\ndefault_ulimits = ["nofile=1:1"]\n')).toBeUndefined();
  });
});

describe('containersConfFiles', () => {
  const list = (dir: string) => (dir === '/etc/containers/containers.conf.d' ? [`${dir}/50-a.conf`] : []);
  it("lists the system files and drop-ins, then a rootless user's own; CONTAINERS_CONF alone replaces them", () => {
    expect(containersConfFiles({}, '/home/u', false, list)).toEqual([
      '/usr/share/containers/containers.conf',
      '/etc/containers/containers.conf',
      '/etc/containers/containers.conf.d/50-a.conf',
    ]);
    expect(containersConfFiles({ XDG_CONFIG_HOME: '/x' }, '/home/u', true, list).slice(-1)).toEqual([
      '/x/containers/containers.conf',
    ]);
    expect(containersConfFiles({ CONTAINERS_CONF: '/c.conf' }, '/home/u', true, list)).toEqual(['/c.conf']);
  });
});

describe('selectPodmanInit', () => {
  const installed =
    (...paths: string[]) =>
    (path: string) =>
      paths.includes(path);

  it("needs nothing where Podman's default init (catatonit) is installed", () => {
    expect(selectPodmanInit(DEFAULT_PODMAN_INIT_PATH, 'podman', installed(DEFAULT_PODMAN_INIT_PATH))).toEqual({});
    expect(selectPodmanInit(DEFAULT_PODMAN_INIT_PATH, 'docker', installed(DEFAULT_PODMAN_INIT_PATH))).toEqual({});
  });

  it("gives Podman's CLI the configured init, else a static one on the host (Debian with docker.io: tini-static)", () => {
    expect(selectPodmanInit(DEFAULT_PODMAN_INIT_PATH, 'podman', installed('/usr/bin/tini-static'))).toEqual({
      initPath: '/usr/bin/tini-static',
    });
    expect(selectPodmanInit('/opt/init', 'podman', installed('/opt/init', '/usr/bin/tini-static'))).toEqual({
      initPath: '/opt/init',
    });
    expect(
      selectPodmanInit(DEFAULT_PODMAN_INIT_PATH, 'podman', installed('/usr/bin/catatonit', '/usr/bin/tini-static')),
    ).toEqual({
      initPath: '/usr/bin/catatonit',
    });
  });

  it('says in one line what to install when no init can be given (the docker CLI has no --init-path)', () => {
    expect(() => selectPodmanInit(DEFAULT_PODMAN_INIT_PATH, 'docker', installed('/usr/bin/tini-static'))).toThrow(
      'Podman\'s init binary "/usr/libexec/podman/catatonit" is not installed, and every run-docker container starts with --init',
    );
    let hint = '';
    try {
      selectPodmanInit(DEFAULT_PODMAN_INIT_PATH, 'podman', installed());
    } catch (error) {
      hint = (error as { hint: string }).hint;
    }
    expect(hint).toMatch(/^Install it \(Debian: apt-get install catatonit\)/);
  });
});
