/**
 * The host's own files, on the real engine: an empty or relative HOME, a cache others
 * can write, planted cache entries, files that are not regular files where run-docker
 * reads (FIFOs, symlinks to /dev/zero), concurrent cold starts, a killed run's leftovers,
 * and a read-only HOME. The shim is driven as a black box.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { buildBusyboxImage, docker, removeImages } from '../helpers/fixtures';
import { startRegistry, type TestRegistry } from '../helpers/registry';
import {
  explain,
  makeHost,
  PACKAGE_VERSION,
  publish,
  removeHosts,
  SHIM_BUNDLE,
  stderrLines,
  type Outcome,
  type HostEnv,
} from '../helpers/shim';

const MINI_TAG = '20260101-000000';
let registry: TestRegistry;
let prefix: string;
let app: string;
let host: HostEnv;
const images: string[] = [];

/** A run of the shim that is killed (SIGKILL) when it has not finished within `withinMs`: a hang shows as `signal`. */
function runWithin(
  args: string[],
  env: Record<string, string>,
  options: { cwd?: string; withinMs?: number } = {},
): Promise<Outcome> {
  const child = spawn(process.execPath, [SHIM_BUNDLE, ...args], {
    env,
    cwd: options.cwd,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), options.withinMs ?? 20_000);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  child.stdin.end();
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

function expectSuccess(outcome: Outcome): void {
  if (outcome.code !== 0) throw new Error(`expected exit 0\n${explain(outcome)}`);
}

/** A host with its own cache folder (and TMPDIR, to see what the shim leaves there). */
async function freshHost(): Promise<HostEnv & { TMPDIR: string }> {
  const home = (await makeHost({})).HOME;
  const tmp = join(home, 'tmp');
  await mkdir(tmp);
  return {
    ...host,
    HOME: home,
    XDG_CACHE_HOME: join(home, '.cache'),
    XDG_CONFIG_HOME: join(home, '.config'),
    TMPDIR: tmp,
  };
}

const cacheRootOf = (env: HostEnv) => join(env.XDG_CACHE_HOME, 'run-docker');
const modeOf = async (path: string) => ((await stat(path)).mode & 0o777).toString(8);

async function imageIdHex(reference: string): Promise<string> {
  const { stdout } = await docker(['image', 'inspect', '--format', '{{.Id}}', reference]);
  return stdout.trim().replace(/^sha256:/, '');
}

beforeAll(async () => {
  registry = await startRegistry();
  prefix = `${registry.address}/host-files-${process.pid}`;
  const tiny = await publish('tiny', `${prefix}/tiny`);
  await publish('mini', `${prefix}/mini`, ['--version', MINI_TAG]);
  images.push(tiny, `${prefix}/tiny:${PACKAGE_VERSION}`, `${prefix}/mini:${MINI_TAG}`);
  app = `${prefix}/proj:1.0.0`;
  await buildBusyboxImage(app);
  images.push(app);
  host = await makeHost({ RUN_DOCKER_TINY: tiny, RUN_DOCKER_MINI: `${prefix}/mini`, RUN_DOCKER_LOCAL: '1' });
}, 120_000);

afterAll(async () => {
  await removeImages(images);
  await registry?.remove();
  await removeHosts();
});

describe('HOME empty or relative', () => {
  test.each([
    ['empty', ''],
    ['relative', 'rel'],
  ])(
    'HOME %s: the config is not read from the current folder, and data and log map under the home of the user database',
    async (_name, homeValue) => {
      const env = await freshHost();
      const cwd = await mkdtemp(join(env.HOME, 'checkout-'));
      // A checkout one does not trust: its "config" would pick the trust root.
      for (const base of [cwd, join(cwd, 'rel')]) {
        await mkdir(join(base, '.config', 'run-docker'), { recursive: true });
        await writeFile(join(base, '.config', 'run-docker', 'config.json'), '{"tiny": "hostile/tiny:1", HOSTILE');
      }
      const { XDG_CONFIG_HOME: _unused, ...rest } = env;
      const hostile = { ...rest, HOME: homeValue };
      const realHome = userInfo().homedir;

      const shown = await runWithin(['--show-config'], hostile, { cwd });
      expectSuccess(shown);
      expect(shown.stdout).toContain(join(realHome, '.config', 'run-docker', 'config.json'));
      expect(shown.stdout).not.toContain(cwd);

      const outcome = await runWithin(['--dry-run', app, 'true'], hostile, { cwd });
      expectSuccess(outcome);
      expect(outcome.stderr).toBe('');
      expect(outcome.stdout).toContain(`source=${join(realHome, 'work', 'data')},`);
      expect(outcome.stdout).toContain(`source=${join(realHome, 'work', 'log')},`);
      expect(outcome.stdout).not.toContain(cwd);
      expect(outcome.stdout).not.toMatch(/source=\/work\//);
    },
  );
});

describe('a cache folder others can write', () => {
  test('a cache folder at 0777 is made 0700 with one warning, and the run goes on', async () => {
    const env = await freshHost();
    await mkdir(cacheRootOf(env), { recursive: true });
    await chmod(cacheRootOf(env), 0o777);
    const outcome = await runWithin(['--version'], env);
    expectSuccess(outcome);
    expect(stderrLines(outcome)).toEqual([
      expect.stringMatching(
        /^run-docker: warning: the cache folder ".*\/run-docker" was writable by group or others \(mode 777\); made it 0700$/,
      ),
    ]);
    expect(await modeOf(cacheRootOf(env))).toBe('700');
    const again = await runWithin(['--version'], env);
    expect({ code: again.code, stderr: again.stderr }).toEqual({ code: 0, stderr: '' });
  });

  test('a cache folder owned by another user is not used: one warning, nothing written into it, nothing left behind', async () => {
    const env = await freshHost();
    await mkdir(join(cacheRootOf(env), 'mini'), { recursive: true });
    execFileSync('chown', ['-R', '4321:4321', cacheRootOf(env)]);
    const outcome = await runWithin([app, 'sh', '-c', 'id -u'], env);
    expectSuccess(outcome);
    expect(outcome.stdout).toBe('1000\n');
    expect(stderrLines(outcome)).toEqual([
      expect.stringMatching(
        /^run-docker: warning: the cache folder ".*\/run-docker" belongs to uid 4321, not to you; running without the cache$/,
      ),
    ]);
    expect((await readdir(cacheRootOf(env))).sort()).toEqual(['mini']);
    expect(await readdir(join(cacheRootOf(env), 'mini'))).toEqual([]);
    expect((await stat(cacheRootOf(env))).uid).toBe(4321);
    expect(await readdir(env.TMPDIR)).toEqual([]);
  });

  test.each([
    ['uid 0', { name: 'docker-user', uid: 0, gid: 0, home: '/root' }],
    [
      'a home outside the image user',
      { name: 'docker-user', uid: 1000, gid: 1000, home: '/home/docker-user/../../etc' },
    ],
  ])('a planted image-user entry with %s does not change who the container runs as', async (_name, planted) => {
    const env = await freshHost();
    expectSuccess(await runWithin([app, 'true'], env));
    const entry = join(cacheRootOf(env), 'mini', 'image-users', `${await imageIdHex(app)}.json`);
    expect((await lstat(entry)).isFile()).toBe(true);
    await writeFile(entry, JSON.stringify({ user: planted }));
    const outcome = await runWithin([app, 'sh', '-c', 'id -u; id -g; echo "$HOME"'], env);
    expectSuccess(outcome);
    expect(outcome.stdout).toBe('1000\n1000\n/home/docker-user\n');
  });
});

describe('cache entries and config files that are not regular files', () => {
  const plants = {
    FIFO: (path: string) => execFileSync('mkfifo', [path]),
    'symlink to /dev/zero': (path: string) => symlink('/dev/zero', path),
  };
  const cases = (Object.keys(plants) as (keyof typeof plants)[]).flatMap((kind) =>
    (['manifest.json', 'entry'] as const).map((file) => [kind, file] as const),
  );

  test.each(cases)(
    'a %s as the cached %s of every payload: one warning per payload, re-extracted, no hang',
    async (kind, which) => {
      const env = await freshHost();
      expectSuccess(await runWithin(['--version'], env));
      const payloads = join(cacheRootOf(env), 'payloads');
      const entries = await readdir(payloads);
      expect(entries).toHaveLength(2);
      const planted: string[] = [];
      for (const entry of entries) {
        // The entry the manifest names (a mini's entry has a build payload beside it, which a run never reads).
        const file =
          which === 'manifest.json'
            ? which
            : (JSON.parse(await readFile(join(payloads, entry, 'manifest.json'), 'utf8')) as { entry: string }).entry;
        await unlink(join(payloads, entry, file));
        await plants[kind](join(payloads, entry, file));
        planted.push(join(payloads, entry, file));
      }
      const outcome = await runWithin(['--version'], env, { withinMs: 15_000 });
      expectSuccess(outcome);
      expect(outcome.stdout).toContain(`mini ${prefix}/mini:${MINI_TAG}`);
      const lines = stderrLines(outcome);
      expect(lines).toHaveLength(2);
      const type = kind === 'FIFO' ? 'a FIFO' : 'a symlink';
      for (const line of lines) {
        expect(line).toMatch(
          new RegExp(
            `^run-docker: warning: the cached payload in ".*" was rejected \\(its [\\w.-]+ is not a regular file \\(${type}\\)\\); extracting it again from its image$`,
          ),
        );
      }
      for (const file of planted) expect((await lstat(file)).isFile()).toBe(true);
    },
    40_000,
  );

  test.each(Object.keys(plants) as (keyof typeof plants)[])(
    'a %s as the cached image user: re-derived, no hang',
    async (kind) => {
      const env = await freshHost();
      expectSuccess(await runWithin([app, 'true'], env));
      const entry = join(cacheRootOf(env), 'mini', 'image-users', `${await imageIdHex(app)}.json`);
      await unlink(entry);
      await plants[kind](entry);
      const outcome = await runWithin([app, 'sh', '-c', 'id -u'], env, { withinMs: 15_000 });
      expectSuccess(outcome);
      expect(outcome.stdout).toBe('1000\n');
      expect(outcome.stderr).toBe('');
    },
    40_000,
  );

  test.each(Object.keys(plants) as (keyof typeof plants)[])(
    'a %s as the config file: one line naming it, exit 125, no hang',
    async (kind) => {
      const env = await freshHost();
      const file = join(env.XDG_CONFIG_HOME, 'run-docker', 'config.json');
      await mkdir(join(env.XDG_CONFIG_HOME, 'run-docker'), { recursive: true });
      await plants[kind](file);
      const outcome = await runWithin(['--version'], env, { withinMs: 15_000 });
      expect(outcome.signal).toBeNull();
      expect(outcome.code).toBe(125);
      expect(stderrLines(outcome)).toEqual([
        `run-docker: the config file "${file}" is not a regular file (${kind === 'FIFO' ? 'a FIFO' : 'a character device'}). Replace it with a JSON file, or remove it to use the defaults.`,
      ]);
    },
    40_000,
  );

  test.each(Object.keys(plants) as (keyof typeof plants)[])(
    "a %s as docker's config.json: one warning, the pull goes on without credentials, no hang",
    async (kind) => {
      const env = await freshHost();
      const dockerConfig = join(env.HOME, '.docker');
      await mkdir(dockerConfig);
      await plants[kind](join(dockerConfig, 'config.json'));
      // A mini only in the registry: the shim pulls it, with the credentials docker login stored, if any.
      // (--version: the docker CLI, which would block on a FIFO config.json itself, is never started.)
      const mini = `${prefix}/mini-${kind === 'FIFO' ? 'fifo' : 'zero'}`;
      images.push(await publish('mini', mini, ['--version', MINI_TAG]), `${mini}:${MINI_TAG}`);
      await removeImages([`${mini}:${MINI_TAG}`]);
      const outcome = await runWithin(
        ['--version'],
        { ...env, RUN_DOCKER_LOCAL: '', RUN_DOCKER_MINI: mini, DOCKER_CONFIG: dockerConfig },
        { withinMs: 30_000 },
      );
      expectSuccess(outcome);
      expect(outcome.stdout).toContain(`mini ${mini}:${MINI_TAG}`);
      const own = stderrLines(outcome).filter((line) => line.startsWith('run-docker:'));
      const type = kind === 'FIFO' ? 'a FIFO' : 'a character device';
      expect(own).toEqual([
        `run-docker: warning: ignoring "${join(dockerConfig, 'config.json')}": it is not a regular file (${type})`,
      ]);
    },
    60_000,
  );
});

describe('a config file others could have written', () => {
  /** A fresh host whose config file pins the real tiny and mini: usable when nobody else could write it. */
  async function hostWithConfigFile(): Promise<{ env: HostEnv; file: string; folder: string }> {
    const env = await freshHost();
    const folder = join(env.XDG_CONFIG_HOME, 'run-docker');
    await mkdir(folder, { recursive: true, mode: 0o755 });
    const file = join(folder, 'config.json');
    await writeFile(file, JSON.stringify({ tiny: host.RUN_DOCKER_TINY, mini: host.RUN_DOCKER_MINI }), { mode: 0o644 });
    const { RUN_DOCKER_TINY: _tiny, RUN_DOCKER_MINI: _mini, ...withoutEnv } = env;
    return { env: withoutEnv, file, folder };
  }

  test('a config file that every user may write, or another user owns, is not used: one line, exit 125', async () => {
    const usable = await hostWithConfigFile();
    expectSuccess(await runWithin(['--version'], usable.env));

    const open = await hostWithConfigFile();
    await chmod(open.file, 0o666);
    const refused = await runWithin(['--version'], open.env);
    expect({ code: refused.code, lines: stderrLines(refused) }).toEqual({
      code: 125,
      lines: [
        `run-docker: the config file "${open.file}" is not used: it names the images this host trusts, and it can be changed by every user (mode 0666). Make it yours and writable by you alone (chown "$USER" FILE; chmod go-w FILE and its folder), or remove it.`,
      ],
    });

    const foreign = await hostWithConfigFile();
    execFileSync('chown', ['4321:4321', foreign.file]);
    expect(stderrLines(await runWithin(['--version'], foreign.env))).toEqual([
      expect.stringContaining(
        `the config file "${foreign.file}" is not used: it names the images this host trusts, and it can be changed by uid 4321, its owner.`,
      ),
    ]);
  }, 60_000);

  test("a config folder others may write is refused too; group write for the user's own group is accepted", async () => {
    const openFolder = await hostWithConfigFile();
    await chmod(openFolder.folder, 0o777);
    expect(stderrLines(await runWithin(['--version'], openFolder.env))).toEqual([
      expect.stringContaining(`which can be changed by every user (mode 0777)`),
    ]);

    // Debian and Ubuntu: a private group per user and umask 002, so 0664 / 0775 are the norm.
    const privateGroup = await hostWithConfigFile();
    await chmod(privateGroup.file, 0o664);
    await chmod(privateGroup.folder, 0o775);
    expectSuccess(await runWithin(['--version'], privateGroup.env));
    execFileSync('chgrp', ['4321', privateGroup.file]);
    expect(stderrLines(await runWithin(['--version'], privateGroup.env))).toEqual([
      expect.stringContaining('can be changed by group 4321 (mode 0664)'),
    ]);
  }, 60_000);
});

describe('a system-wide config file, for every account on a host', () => {
  /** A root-owned folder standing in for /etc (via XDG_CONFIG_DIRS): the real /etc would reach every other test. */
  async function systemConfig(content: unknown, mode = 0o644): Promise<{ dirs: string; file: string }> {
    const dirs = await mkdtemp(join(tmpdir(), 'run-docker-etc-'));
    await chmod(dirs, 0o755);
    await mkdir(join(dirs, 'run-docker'), { mode: 0o755 });
    const file = join(dirs, 'run-docker', 'config.json');
    await writeFile(file, JSON.stringify(content));
    await chmod(file, mode);
    return { dirs, file };
  }

  test('a service account with no config of its own runs what the system file names; its own file and env still win', async () => {
    const { dirs, file } = await systemConfig({ tiny: host.RUN_DOCKER_TINY, mini: host.RUN_DOCKER_MINI });
    try {
      const { RUN_DOCKER_TINY: _tiny, RUN_DOCKER_MINI: _mini, ...rest } = await freshHost();
      const account = { ...rest, XDG_CONFIG_DIRS: dirs };
      const outcome = await runWithin(['--version'], account);
      expectSuccess(outcome);
      expect(outcome.stdout).toContain(`mini ${host.RUN_DOCKER_MINI}:${MINI_TAG}`);
      const shown = await runWithin(['--show-config'], account);
      expect(shown.stdout).toMatch(new RegExp(`^tiny +\\S+ +\\(file ${file}\\)$`, 'm'));
      expect(shown.stdout).toMatch(new RegExp(`^system config +${file} +\\(env XDG_CONFIG_DIRS\\)$`, 'm'));
      expect(shown.stdout).toMatch(/^system config +\/etc\/run-docker\/config\.json +\(default(; not present)?\)$/m);
      // The user's own file beats the system file, key by key.
      await mkdir(join(account.XDG_CONFIG_HOME, 'run-docker'), { recursive: true });
      await writeFile(
        join(account.XDG_CONFIG_HOME, 'run-docker', 'config.json'),
        JSON.stringify({ mini: `${host.RUN_DOCKER_MINI}-own` }),
      );
      const own = await runWithin(['--show-config'], account);
      expect(own.stdout).toMatch(
        new RegExp(
          `^mini +${host.RUN_DOCKER_MINI}-own +\\(file ${join(account.XDG_CONFIG_HOME, 'run-docker', 'config.json')}\\)$`,
          'm',
        ),
      );
      expect(own.stdout).toMatch(new RegExp(`^tiny +\\S+ +\\(file ${file}\\)$`, 'm'));
    } finally {
      await rm(dirs, { recursive: true, force: true });
    }
  });

  test('a system file that a non-root user could write is refused: it names the trust root of every account', async () => {
    const groupWritable = await systemConfig({ tiny: host.RUN_DOCKER_TINY }, 0o664);
    execFileSync('chgrp', ['4321', groupWritable.file]);
    const foreign = await systemConfig({ tiny: host.RUN_DOCKER_TINY });
    execFileSync('chown', ['4321', foreign.file]);
    try {
      for (const [{ dirs, file }, who] of [
        [groupWritable, 'group 4321 (mode 0664)'],
        [foreign, 'uid 4321, its owner'],
      ] as const) {
        const outcome = await runWithin(['--version'], { ...(await freshHost()), XDG_CONFIG_DIRS: dirs });
        expect({ code: outcome.code, lines: stderrLines(outcome) }).toEqual({
          code: 125,
          lines: [
            `run-docker: the config file "${file}" is not used: it names the images this host trusts, and it can be changed by ${who}. A system-wide config file must belong to root and be writable by root alone (chown root:root FILE; chmod 644 FILE; the same for its folder), or be removed.`,
          ],
        });
      }
    } finally {
      await rm(groupWritable.dirs, { recursive: true, force: true });
      await rm(foreign.dirs, { recursive: true, force: true });
    }
  });
});

describe('leftovers', () => {
  test('20 shims started together on a cold cache all run, and none reports a rejected payload', async () => {
    const env = await freshHost();
    const started = Date.now();
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, () => runWithin(['--version'], env, { withinMs: 120_000 })),
    );
    console.log(`20 parallel cold runs: ${Date.now() - started} ms`);
    for (const outcome of outcomes) {
      expect({ code: outcome.code, stderr: outcome.stderr }).toEqual({ code: 0, stderr: '' });
    }
    expect(await readdir(join(cacheRootOf(env), 'staging'))).toEqual([]);
  }, 180_000);

  test("a killed run's staging folders are swept by the next run; a running one's are left alone", async () => {
    const env = await freshHost();
    expectSuccess(await runWithin(['--version'], env));
    const staging = join(cacheRootOf(env), 'staging');
    const deadPid = spawnSync('true').pid;
    const left = [`new-${deadPid}-0123456789ab`, `old-${deadPid}-0123456789ab`];
    const running = `new-${process.pid}-0123456789ab`;
    for (const name of [...left, running]) {
      await mkdir(join(staging, name), { mode: 0o700 });
      await writeFile(join(staging, name, 'run.js'), 'half written');
    }
    const outcome = await runWithin(['--version'], env);
    expect({ code: outcome.code, stderr: outcome.stderr }).toEqual({ code: 0, stderr: '' });
    expect(await readdir(staging)).toEqual([running]);
  });

  test('a read-only HOME is reported as read-only (EROFS), not as a missing folder', async () => {
    const env = await freshHost();
    const home = await mkdtemp(join(tmpdir(), 'run-docker-ro-home-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', home]);
    try {
      execFileSync('mount', ['-o', 'remount,ro', home]);
      const { XDG_CONFIG_HOME: _config, XDG_CACHE_HOME: _cache, ...rest } = env;
      const outcome = await runWithin([app, 'true'], { ...rest, HOME: home });
      expect(outcome.code).toBe(125);
      const lines = stderrLines(outcome);
      expect(lines.join('\n')).not.toContain('ENOENT');
      expect(lines).toEqual([
        expect.stringMatching(
          /^run-docker: warning: cannot write the payload cache in ".*" \(EROFS\); continuing without it$/,
        ),
        expect.stringMatching(
          /^run-docker: warning: cannot write the payload cache in ".*" \(EROFS\); continuing without it$/,
        ),
        `run-docker: warning: cannot record that this host ran mini ${MINI_TAG} in "${join(home, '.local', 'state', 'run-docker', 'mini-versions.json')}" (EROFS); older minis may run later without a word`,
        `run-docker: cannot create the data folder "${join(home, 'work', 'data')}" (EROFS). Create it yourself, choose another with --hostdatadir (or "no" to map none).`,
      ]);
    } finally {
      execFileSync('umount', [home]);
      await rm(home, { recursive: true, force: true });
    }
  });
});
