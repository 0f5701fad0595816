import {
  anchorFileArgs,
  anchorFileOptions,
  findWideningOptions,
  parseCsv,
  type CheckContext,
} from '../../payload/project/check-project-options';
import { parseProjectRunOptions } from '../../payload/run/parse-invocation';

const PROJECT = '/home/me/work/src/hello';
const HOME = '/home/me';
/** Links as a cloned repository could hold them: `link-to-etc` → /etc, `data` → ~/work/data. */
const LINKS: Record<string, string> = {
  [`${PROJECT}/link-to-etc`]: '/etc',
  [`${PROJECT}/data`]: `${HOME}/work/data`,
  [`${PROJECT}/env-link`]: `${HOME}/.aws/credentials`,
};
const context: CheckContext = {
  projectDir: PROJECT,
  workDir: `${HOME}/work`,
  realPath: (path) => {
    for (const [link, target] of Object.entries(LINKS)) {
      if (path === link || path.startsWith(`${link}/`)) return target + path.slice(link.length);
    }
    return path;
  },
};

/** The widening options of run-options as a project file would hold them (read and anchored as run-docker does). */
function wideningOf(args: string[]): string[] {
  const parsed = parseProjectRunOptions(args, 'the test file');
  const { options, own } = anchorFileOptions(parsed.options, parsed.own.has('root'), PROJECT, HOME);
  return findWideningOptions(own, options.dockerArgs, context).map((widening) => widening.option);
}

describe('findWideningOptions: every spelling of every widening option is found', () => {
  it.each([
    [['--privileged'], '--privileged'],
    [['--privileged=true'], '--privileged=true'],
    [['--privileged=1'], '--privileged=1'],
    [['--cap-add=ALL'], '--cap-add ALL'],
    [['--cap-add', 'SYS_ADMIN'], '--cap-add SYS_ADMIN'],
    [['--device', '/dev/sda'], '--device /dev/sda'],
    [['--device-cgroup-rule', 'a *:* rwm'], '--device-cgroup-rule a *:* rwm'],
    [['--gpus', 'all'], '--gpus all'],
    [['--security-opt', 'seccomp=unconfined'], '--security-opt seccomp=unconfined'],
    [['--security-opt=apparmor=unconfined'], '--security-opt apparmor=unconfined'],
    [['--network', 'host'], '--network host'],
    [['--network=host'], '--network host'],
    [['--net', 'host'], '--network host'],
    [['--net=host'], '--network host'],
    [['--network', 'name=host,alias=web'], '--network name=host,alias=web'],
    [['--network', 'container:db'], '--network container:db'],
    [['--pid=host'], '--pid host'],
    [['--pid', 'container:db'], '--pid container:db'],
    [['--ipc=host'], '--ipc host'],
    [['--uts=host'], '--uts host'],
    [['--userns=host'], '--userns host'],
    [['--cgroupns=host'], '--cgroupns host'],
    [['--group-add', '0'], '--group-add 0'],
    [['--volumes-from', 'other'], '--volumes-from other'],
    [['--volume-driver', 'evil'], '--volume-driver evil'],
    [['--use-api-socket'], '--use-api-socket'],
    [['--cgroup-parent', '/'], '--cgroup-parent /'],
    [['--cidfile', 'cid'], `--cidfile ${PROJECT}/cid`],
    [['--root'], '--root'],
    [['-P'], '--publish-all'],
    [['-p', '8000:8000'], '--publish 8000:8000'],
    [['-p', '0.0.0.0:8000:8000'], '--publish 0.0.0.0:8000:8000'],
    [['--publish=8000'], '--publish 8000'],
    [['-p', '[::]:8000:8000'], '--publish [::]:8000:8000'],
    [['-v', '/etc:/x'], '--volume /etc:/x'],
    [['--volume=/:/host'], '--volume /:/host'],
    [['-v', '/var/run/docker.sock:/var/run/docker.sock'], '--volume /var/run/docker.sock:/var/run/docker.sock'],
    [['-v', '../other:/x'], '--volume ../other:/x'],
    [['-v', './a/../../x:/x'], '--volume ./a/../../x:/x'],
    [['-v', './link-to-etc:/x'], `--volume ${PROJECT}/link-to-etc:/x`],
    // Its text starts in the project, but ".." is resolved after links by the kernel: refused as written.
    [['-v', `${PROJECT}/src/../../../../../etc:/x`], `--volume ${PROJECT}/src/../../../../../etc:/x`],
    [['-v', '~/.ssh:/x'], `--volume ${HOME}/.ssh:/x`],
    [['--mount', 'type=bind,source=/etc,target=/x'], '--mount type=bind,source=/etc,target=/x'],
    [['--mount=type=bind,src=/,dst=/host'], '--mount type=bind,src=/,dst=/host'],
    [['--mount', '"type=bind","source=/etc",target=/x'], '--mount type=bind,source=/etc,target=/x'],
    [
      ['--mount', 'type=bind,source=./link-to-etc/ssl,target=/x'],
      `--mount type=bind,source=${PROJECT}/link-to-etc/ssl,target=/x`,
    ],
    [
      ['--mount', 'type=volume,source=v,target=/x,volume-opt=type=none,volume-opt=o=bind,volume-opt=device=/etc'],
      '--mount type=volume,source=v,target=/x,volume-opt=type=none,volume-opt=o=bind,volume-opt=device=/etc',
    ],
    [['--mount', 'source=v,target=/x,volume-driver=evil'], '--mount source=v,target=/x,volume-driver=evil'],
    [['--env-file', '/home/me/.aws/credentials'], '--env-file /home/me/.aws/credentials'],
    [['--env-file', 'env-link'], `--env-file ${PROJECT}/env-link`],
    [['--env-file', '../secrets.env'], '--env-file ../secrets.env'],
    [['--env-file', `${HOME}/work/data/x.env`], `--env-file ${HOME}/work/data/x.env`],
    [['--label-file', '/etc/shadow'], '--label-file /etc/shadow'],
    [['--hostdatadir', '/etc'], '--hostdatadir /etc'],
    [['--hostsrcdir', '/'], '--hostsrcdir /'],
  ])('%j', (args, expected) => {
    expect(wideningOf(args)).toEqual([expected]);
  });
});

describe('findWideningOptions: what keeps the container as narrow as docker makes it passes', () => {
  it.each([
    [['-p', '127.0.0.1:8000:8000', '-p', '127.0.0.2::9000/udp', '-p', '[::1]:8080:80']],
    [['-e', 'DJANGO_DEBUG=1', '--env=A=1', '-w', '/x', '--memory', '8g', '--name', 'web', '-d', '--restart', 'always']],
    [['-v', 'hello-pip-cache:/home/docker-user/.cache/pip', '-v', '/anonymous']],
    [['-v', './data:/data', '-v', '.:/src', '-v', `${HOME}/work/log:/log`, '-v', `${HOME}/work/src/other:/o:ro`]],
    [['--mount', 'type=bind,source=.,target=/src', '--mount', 'type=tmpfs,target=/t', '--mount', 'source=v,target=/v']],
    [['--env-file', '.env', '--env-file', `${PROJECT}/config/dev.env`, '--label-file', 'labels']],
    [['--network', 'bridge', '--net=none', '--network', 'name=backend,alias=web', '--ipc=private', '--pid', 'private']],
    [['--privileged=false', '--use-api-socket=0', '--read-only', '--cap-drop', 'ALL', '--tty=false']],
    [['--hostdatadir', 'data', '--hostsrcdir', '.', '--hostlogdir', 'no']],
  ])('%j', (args) => {
    expect(wideningOf(args)).toEqual([]);
  });
});

describe('anchorFileArgs', () => {
  it('makes relative host paths the project\'s, ~ the home, and leaves named volumes and ".." alone', () => {
    expect(
      anchorFileArgs(
        [
          '--volume',
          './data:/data:ro',
          '--volume',
          '.:/src',
          '--volume',
          'cache:/c',
          '--volume',
          '~/x:/x',
          '--volume',
          '../up:/up',
          '--mount',
          'type=bind,src=./a b,target=/t',
          '--env-file',
          'dev.env',
          '--env',
          './not-a-path',
          '--tty',
        ],
        PROJECT,
        HOME,
      ),
    ).toEqual([
      '--volume',
      `${PROJECT}/data:/data:ro`,
      '--volume',
      `${PROJECT}:/src`,
      '--volume',
      'cache:/c',
      '--volume',
      `${HOME}/x:/x`,
      '--volume',
      '../up:/up',
      '--mount',
      `type=bind,src=${PROJECT}/a b,target=/t`,
      '--env-file',
      `${PROJECT}/dev.env`,
      '--env',
      './not-a-path',
      '--tty',
    ]);
  });

  it('quotes a --mount field again when it needs it', () => {
    expect(anchorFileArgs(['--mount', 'type=bind,"src=./a,b",target=/t'], PROJECT, HOME)).toEqual([
      '--mount',
      `type=bind,"src=${PROJECT}/a,b",target=/t`,
    ]);
    expect(parseCsv('a,"b,""c""",d')).toEqual(['a', 'b,"c"', 'd']);
  });
});
