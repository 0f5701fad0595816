/**
 * The mini payload's run behaviour, seen from inside real containers: dev vs prod,
 * data and log folders, users and file ownership, versions and pulls, quoting, stdin,
 * exit codes, signals, --dry-run, and paths with spaces.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBusyboxImage, docker, pushImage, removeImages } from '../helpers/fixtures';
import { listOwnContainers } from '../helpers/own-containers';
import { processesMentioning } from '../helpers/processes';
import { startRegistry, type TestRegistry } from '../helpers/registry';
import {
  explain,
  makeHost,
  PACKAGE_VERSION,
  publish,
  removeHosts,
  runShim,
  SHIM_BUNDLE,
  startShim,
  type Outcome,
  type HostEnv,
} from '../helpers/shim';

let registry: TestRegistry;
let prefix: string;
let app: string;
let baseEnv: HostEnv;
const images: string[] = [];

/** A host whose HOME has a space in its path. */
async function hostWithSpaces(): Promise<HostEnv> {
  const parent = (await makeHost({})).HOME;
  const home = join(parent, 'home with space');
  await mkdir(home);
  return { ...baseEnv, HOME: home, XDG_CACHE_HOME: join(home, '.cache'), XDG_CONFIG_HOME: join(home, '.config') };
}

async function build(
  reference: string,
  options: Parameters<typeof buildBusyboxImage>[1] = {},
  push = true,
): Promise<void> {
  await buildBusyboxImage(reference, options);
  images.push(reference);
  if (push) await pushImage(reference);
}

function expectSuccess(outcome: Outcome): void {
  if (outcome.code !== 0) throw new Error(`expected exit 0\n${explain(outcome)}`);
}

const SHOWN_VARIABLES = [
  'HOME',
  'USER',
  'PYTHONPATH',
  'DATADIR',
  'LOGDIR',
  'IMAGE_NAME',
  'IMAGE_VERSION',
  'HOSTUSER',
  'HOST_WHOAMI',
  'TZ',
  'DOCKER_LOCAL_MODE',
];
/** A shell snippet printing `name=value` lines, `unset` for a variable that is not set. */
const SHOW = [
  'echo "pwd=$(pwd)"',
  'echo "id=$(id -u):$(id -g)"',
  ...SHOWN_VARIABLES.map((name) => `echo "${name}=\${${name}-unset}"`),
].join('; ');
const field = (outcome: Outcome, name: string) => new RegExp(`^${name}=(.*)$`, 'm').exec(outcome.stdout)?.[1];

beforeAll(async () => {
  registry = await startRegistry();
  prefix = `${registry.address}/run-${process.pid}`;
  const tiny = await publish('tiny', `${prefix}/tiny`);
  await publish('mini', `${prefix}/mini`, ['--version', '20260101-000000']);
  images.push(tiny, `${prefix}/tiny:${PACKAGE_VERSION}`, `${prefix}/mini:20260101-000000`);
  baseEnv = await makeHost({ RUN_DOCKER_TINY: tiny, RUN_DOCKER_MINI: `${prefix}/mini`, TZ: 'Europe/Berlin' });
  app = `${prefix}/proj`;
  await build(`${app}:1.0.0`);
  await build(`${app}:2.0.0`);
});

afterAll(async () => {
  await removeImages(images);
  await registry?.remove();
  await removeHosts();
});

test('prod: working dir is the home, data and log are created, mapped and writable, variables set', async () => {
  const env = await hostWithSpaces();
  const outcome = await runShim(
    [app, 'sh', '-c', `${SHOW}; echo hello > "$DATADIR/out.txt"; echo log > "$LOGDIR/app.log"`],
    env,
  );
  expectSuccess(outcome);
  expect(field(outcome, 'pwd')).toBe('/home/docker-user');
  expect(field(outcome, 'id')).toBe('1000:1000');
  expect(field(outcome, 'HOME')).toBe('/home/docker-user');
  expect(field(outcome, 'USER')).toBe('docker-user');
  expect(field(outcome, 'PYTHONPATH')).toBe('unset');
  expect(field(outcome, 'DATADIR')).toBe('/home/docker-user/data');
  expect(field(outcome, 'LOGDIR')).toBe('/home/docker-user/log');
  expect(field(outcome, 'IMAGE_NAME')).toBe(app);
  expect(field(outcome, 'IMAGE_VERSION')).toBe('2.0.0');
  expect(field(outcome, 'HOSTUSER')).toBe(`${process.getuid!()}:${process.getgid!()}`);
  expect(field(outcome, 'TZ')).toBe('Europe/Berlin');
  expect(field(outcome, 'DOCKER_LOCAL_MODE')).toBe('unset');
  expect(await readFile(join(env.HOME, 'work', 'data', 'out.txt'), 'utf8')).toBe('hello\n');
  expect(await readFile(join(env.HOME, 'work', 'log', 'app.log'), 'utf8')).toBe('log\n');
});

test('dev: ~/work/src/<name> is mapped to ~/src, on PYTHONPATH, and is the working dir', async () => {
  const env = await hostWithSpaces();
  const source = join(env.HOME, 'work', 'src', 'proj');
  await mkdir(join(source, 'src'), { recursive: true });
  await writeFile(join(source, 'marker.txt'), 'from the host\n');
  await chmod(join(env.HOME, 'work', 'src'), 0o777);
  await chmod(source, 0o777);
  const outcome = await runShim([app, 'sh', '-c', `${SHOW}; cat marker.txt; echo new > written.txt`], env);
  expectSuccess(outcome);
  expect(field(outcome, 'pwd')).toBe('/home/docker-user/src');
  expect(field(outcome, 'PYTHONPATH')).toBe('/home/docker-user/src/src');
  expect(outcome.stdout).toContain('from the host');
  expect(await readFile(join(source, 'written.txt'), 'utf8')).toBe('new\n');

  const elsewhere = join(env.HOME, 'other source');
  await mkdir(elsewhere);
  await writeFile(join(elsewhere, 'marker.txt'), 'other\n');
  const override = await runShim(['--hostsrcdir', elsewhere, app, 'cat', 'marker.txt'], env);
  expect(override.stdout).toBe('other\n');
});

test('--root runs as root with home /root; "no" turns the data mapping off', async () => {
  const env = await hostWithSpaces();
  const outcome = await runShim(['--root', '--hostdatadir', 'no', app, 'sh', '-c', SHOW], env);
  expectSuccess(outcome);
  expect(field(outcome, 'id')).toBe('0:0');
  expect(field(outcome, 'HOME')).toBe('/root');
  expect(field(outcome, 'DATADIR')).toBe('/tmp');
  expect(field(outcome, 'LOGDIR')).toBe('/root/log');
});

test('files written by a host user whose uid is not 1000 belong to that user', async () => {
  const uid = 4321;
  const env = await hostWithSpaces();
  await chown(join(env.HOME, '..'), uid, uid);
  await chown(env.HOME, uid, uid);
  const source = join(env.HOME, 'work', 'src', 'proj');
  await mkdir(source, { recursive: true });
  execFileSync('chown', ['-R', `${uid}:${uid}`, join(env.HOME, 'work')]);
  const dockerGroup = (await stat('/var/run/docker.sock')).gid;
  // The same shim, as an unprivileged host user who may use the engine.
  const asHostUser = ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, `--groups=${dockerGroup}`];
  const script = `${SHOW}; touch by-container "$DATADIR/by-container" "$LOGDIR/by-container"`;
  const outcome = await runShim([app, 'sh', '-c', script], env, '', asHostUser);
  expectSuccess(outcome);
  expect(field(outcome, 'id')).toBe(`${uid}:${uid}`);
  expect(field(outcome, 'HOME')).toBe('/home/docker-user');
  for (const file of [
    join(source, 'by-container'),
    join(env.HOME, 'work', 'data', 'by-container'),
    join(env.HOME, 'work', 'log', 'by-container'),
  ]) {
    const info = await stat(file);
    expect({ file, uid: info.uid, gid: info.gid }).toEqual({ file, uid, gid: uid });
  }
});

test('an image without docker-user gets a message suggesting --root', async () => {
  const bare = `${prefix}/bare:1.0.0`;
  await build(bare, { files: { '/etc/passwd': 'root:x:0:0:root:/root:/bin/sh\n' } });
  const outcome = await runShim([bare, 'true'], baseEnv);
  expect(outcome.code).toBe(125);
  expect(outcome.stderr).toMatch(
    /^run-docker: the image ".*\/bare:1\.0\.0(@sha256:[0-9a-f]{64})?" has no user "docker-user" to run as\. Run it as root with --root/,
  );
  expectSuccess(await runShim(['--root', bare, 'true'], baseEnv));
});

describe('versions', () => {
  test('an exact older tag runs that tag, also when it exists only in the registry (rollback on a fresh host)', async () => {
    await removeImages([`${app}:1.0.0`]);
    const outcome = await runShim([`${app}:1.0.0`, 'sh', '-c', 'echo $IMAGE_VERSION'], baseEnv);
    expectSuccess(outcome);
    expect(outcome.stdout).toBe('1.0.0\n');
  });

  test('a newer tag pushed to the registry is pulled and used on the next call; --local never pulls', async () => {
    await build(`${app}:3.0.0`);
    await removeImages([`${app}:3.0.0`]); // as if another machine had published it
    const local = await runShim(['--local', app, 'sh', '-c', 'echo $IMAGE_VERSION $DOCKER_LOCAL_MODE'], baseEnv);
    expectSuccess(local);
    expect(local.stdout).toBe('2.0.0 1\n');
    const { code: absentCode } = await docker(['image', 'inspect', `${app}:3.0.0`]);
    expect(absentCode).not.toBe(0);

    const next = await runShim([app, 'sh', '-c', 'echo $IMAGE_VERSION'], baseEnv);
    expectSuccess(next);
    expect(next.stdout).toBe('3.0.0\n');
  });
});

test('arguments, stdin and exit codes pass through exactly', async () => {
  const quoted = await runShim(
    [app, 'sh', '-c', 'echo "a  b"; printf "[%s]" "$@"', 'x', "it's", 'two  spaces', ''],
    baseEnv,
  );
  expect(quoted.stdout).toBe("a  b\n[it's][two  spaces][]");
  expect((await runShim([app, 'sh', '-c', 'exit 42'], baseEnv)).code).toBe(42);
  expect((await runShim([app, 'cat'], baseEnv, 'x\n')).stdout).toBe('x\n');
  const options = await runShim(
    ['-e', 'A=1', '--env=B=two words', '-w', '/tmp', app, 'sh', '-c', 'echo "$A|$B|$(pwd)"'],
    baseEnv,
  );
  expect(options.stdout).toBe('1|two words|/tmp\n');
});

test("-h VALUE before IMAGE is docker's --hostname, as docker run reads it; -h alone is help", async () => {
  const hostname = await runShim(['-h', 'web-1', app, 'hostname'], baseEnv);
  expect({ code: hostname.code, stdout: hostname.stdout }).toEqual({ code: 0, stdout: 'web-1\n' });
  const help = await runShim(['-h'], baseEnv);
  expect(help.code).toBe(0);
  expect(help.stdout).toMatch(/^Usage: run-docker /);
});

test('SIGTERM reaches the container, and run-docker exits after docker with its code', async () => {
  const { child, done } = startShim(
    [app, 'sh', '-c', 'trap "echo got TERM; exit 3" TERM; echo ready; while true; do sleep 0.1; done'],
    baseEnv,
  );
  child.stdin!.end();
  await new Promise<void>((resolve) =>
    child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve()),
  );
  child.kill('SIGTERM');
  const outcome = await done;
  expect(outcome.stdout).toContain('got TERM');
  expect(outcome.code).toBe(3);
});

describe('signals on a terminal', () => {
  /**
   * The shim on a pty (`script`), as a user at a terminal runs it, and its pid: `exec` keeps
   * the shell's. The container traps SIGINT and prints what it got; left alone it ends by
   * itself after ~6 s with exit 0.
   */
  async function startOnTerminal(env: Record<string, string>) {
    const dir = await mkdtemp(join(tmpdir(), 'run-docker-pty-'));
    const pidFile = join(dir, 'pid');
    const script =
      'trap "echo got INT; exit 5" INT; echo ready; i=0; while [ $i -lt 60 ]; do sleep 0.1; i=$((i+1)); done; echo ran to its end';
    const quote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;
    const command = `echo $$ > ${quote(pidFile)}; exec ${[process.execPath, SHIM_BUNDLE, app, 'sh', '-c', script].map(quote).join(' ')}`;
    const child = spawn('script', ['-qec', command, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const done = new Promise<number | null>((resolve) => child.on('close', resolve));
    const deadline = Date.now() + 60_000;
    while (!output.includes('ready') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    const pid = Number((await readFile(pidFile, 'utf8')).trim());
    return { pid, done, output: () => output, cleanUp: () => rm(dir, { recursive: true, force: true }) };
  }

  test('kill -INT <run-docker pid> reaches the container and run-docker exits with its code', async () => {
    const run = await startOnTerminal(baseEnv);
    try {
      expect(run.output()).toContain('ready');
      process.kill(run.pid, 'SIGINT');
      const code = await run.done;
      expect({ code, output: run.output() }).toEqual({
        code: 5,
        output: expect.stringContaining('got INT') as unknown,
      });
      expect(run.output()).not.toContain('ran to its end');
    } finally {
      await run.cleanUp();
    }
  });

  test('kill -TERM <run-docker pid> on a terminal ends the container too (143)', async () => {
    const run = await startOnTerminal(baseEnv);
    try {
      process.kill(run.pid, 'SIGTERM');
      const code = await run.done;
      expect({ code, output: run.output() }).toEqual({
        code: 143,
        output: expect.not.stringContaining('ran to its end') as unknown,
      });
    } finally {
      await run.cleanUp();
    }
  });
});

test('a signal while the image user is read: nothing runs and no container is left', async () => {
  // A fresh cache every time, so each run reads /etc/passwd through a never-started container;
  // the signal lands as soon as that container exists (or just after it is gone).
  const marker = await mkdtemp(join(tmpdir(), 'run-docker-marker-'));
  await chmod(marker, 0o777); // docker-user may leave its mark
  const containersBefore = await listOwnContainers();
  try {
    for (let round = 0; round < 8; round++) {
      const env = { ...baseEnv, XDG_CACHE_HOME: join(marker, `cache-${round}`), RUN_DOCKER_LOCAL: '1' };
      await runShim(['--version'], env); // payloads cached: the run's next extraction is the image user's
      const { child, done } = startShim(['-v', `${marker}:/marker`, app, 'touch', `/marker/ran-${round}`], env);
      child.stdin!.end();
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        const { stdout } = await docker(['ps', '-a', '-q', '--filter', 'label=org.run-docker.extraction']);
        if (stdout.trim() !== '' || child.exitCode !== null) break;
      }
      child.kill('SIGINT');
      const outcome = await done;
      expect({ round, code: outcome.code, signal: outcome.signal }).toEqual({
        round,
        code: outcome.signal ? null : 130,
        signal: outcome.signal,
      });
    }
    // Nothing can run later: no docker command that would map the marker is still alive.
    expect(await processesMentioning(marker)).toEqual([]);
    expect(await readdir(marker).then((names) => names.filter((name) => name.startsWith('ran-')))).toEqual([]);
    expect(await listOwnContainers()).toEqual(containersBefore);
  } finally {
    await rm(marker, { recursive: true, force: true });
  }
}, 300_000);

test('--dry-run prints the exact docker command and neither pulls nor runs', async () => {
  await build(`${app}:4.0.0`);
  await removeImages([`${app}:4.0.0`]);
  const before = await listOwnContainers();
  const outcome = await runShim(['--dry-run', '-e', 'X=a b', app, 'sh', '-c', 'echo "hi  there"'], baseEnv);
  expectSuccess(outcome);
  expect(outcome.stdout).toMatch(/^docker run --init --rm --interactive --name \S+ --user 1000:1000 /);
  expect(outcome.stdout).toContain(` --env 'X=a b' ${app}:4.0.0 sh -c 'echo "hi  there"'\n`);
  expect((await docker(['image', 'inspect', `${app}:4.0.0`])).code).not.toBe(0);
  expect(await listOwnContainers()).toEqual(before);
});

test('a detached container with a restart policy and a name stays; default names differ within a second', async () => {
  const name = `run-docker-test-${process.pid}`;
  try {
    const outcome = await runShim(['-d', '--restart', 'unless-stopped', '--name', name, app, 'sleep', '60'], baseEnv);
    expectSuccess(outcome);
    const { stdout } = await docker([
      'inspect',
      '--format',
      '{{.HostConfig.RestartPolicy.Name}} {{.HostConfig.AutoRemove}} {{.HostConfig.Init}}',
      name,
    ]);
    expect(stdout.trim()).toBe('unless-stopped false true');
  } finally {
    await docker(['rm', '--force', name]);
  }
  const [a, b] = await Promise.all([runShim(['--dry-run', app], baseEnv), runShim(['--dry-run', app], baseEnv)]);
  const nameOf = (outcome: Outcome) => / --name (\S+) /.exec(outcome.stdout)?.[1];
  expect(nameOf(a)).toMatch(/^[A-Za-z0-9][\w.-]*-\d{8}-\d{6}-[0-9a-f]{4}$/);
  expect(nameOf(a)).not.toBe(nameOf(b));
});

test('a corrupt cache is read again from the images, not trusted and not fatal', async () => {
  const env = await hostWithSpaces();
  expectSuccess(await runShim([app, 'true'], env));
  const cacheRoot = join(env.XDG_CACHE_HOME, 'run-docker');
  const cached = execFileSync('find', [cacheRoot, '-type', 'f'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  expect(cached.some((file) => file.includes('/image-users/'))).toBe(true);
  expect(cached.some((file) => file.endsWith('manifest.json'))).toBe(true);
  for (const file of cached) await writeFile(file, '{ truncated');
  const outcome = await runShim([app, 'sh', '-c', 'echo "$USER"'], env);
  expectSuccess(outcome);
  expect(outcome.stdout).toBe('docker-user\n');
});
