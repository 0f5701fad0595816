/**
 * The seed's walkthrough, for real: a Python project on a developer's host (HOME with a
 * space in its path), its dev and prod images in a registry, and the built shim running
 * its tests, its module, the installed package and Jupyter — as a user would type it.
 */
import { access, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { docker, removeImages, runCommand } from '../helpers/fixtures';
import { PYTHON_BASE_BUILD_TIMEOUT_MS } from '../helpers/python-base';
import {
  PROJECT_NAME,
  buildProjectImages,
  makeProjectHome,
  projectImages,
  removeProjectHomes,
  type ProjectHome,
} from '../helpers/python-project';
import { startRegistry, type TestRegistry } from '../helpers/registry';
import {
  explain,
  makeHost,
  PACKAGE_VERSION,
  publish,
  removeHosts,
  runShim,
  startShim,
  type Outcome,
} from '../helpers/shim';
import { defined } from '../helpers/defined';
import { freePort } from '../helpers/listen';

const MINI_VERSION = '20260101-000000';
/** Jupyter starts in about 2 s here; the first run of an image may also pull it. */
const NOTEBOOK_WAIT_MS = 60_000;

let registry: TestRegistry;
let prefix: string;
let project: ProjectHome;
let env: Record<string, string>;
/** Repositories without a tag: the user asks for the newest. */
let devRepo: string;
let prodRepo: string;
const images: string[] = [];

function expectSuccess(outcome: Outcome): void {
  expect({ code: outcome.code, output: explain(outcome) }).toEqual({ code: 0, output: explain(outcome) });
}

/** UTC `YYYYMMDD-HHMMSS`: a tag run-docker counts, unique per run. */
function dateTimeTag(date = new Date()): string {
  const iso = date.toISOString();
  return `${iso.slice(0, 10).replaceAll('-', '')}-${iso.slice(11, 19).replaceAll(':', '')}`;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

beforeAll(async () => {
  registry = await startRegistry();
  prefix = `${registry.address}/walkthrough-${process.pid}`;
  const tiny = await publish('tiny', `${prefix}/tiny`);
  await publish('mini', `${prefix}/mini`, ['--version', MINI_VERSION]);
  images.push(tiny, `${prefix}/tiny:${PACKAGE_VERSION}`, `${prefix}/mini:${MINI_VERSION}`);

  project = await makeProjectHome();
  const host = await makeHost({ RUN_DOCKER_TINY: tiny, RUN_DOCKER_MINI: `${prefix}/mini` });
  env = {
    ...host,
    HOME: project.home,
    XDG_CONFIG_HOME: join(project.home, '.config'),
    XDG_CACHE_HOME: join(project.home, '.cache'),
  };

  const tag = dateTimeTag();
  const references = projectImages(prefix, tag);
  images.push(references.dev, references.prod);
  await buildProjectImages(prefix, tag);
  devRepo = `${prefix}/${PROJECT_NAME}`;
  prodRepo = `${prefix}/${PROJECT_NAME}-main`;
}, PYTHON_BASE_BUILD_TIMEOUT_MS);

afterAll(async () => {
  await removeImages(images);
  await registry?.remove();
  await removeHosts();
  await removeProjectHomes();
});

test('py.test in the dev image runs the tests of the source on the host, and leaves no cache in it', async () => {
  // A test that exists only in the host's copy, and checks where the package came from.
  await writeFile(
    join(project.projectDir, 'tests', 'test_host_copy.py'),
    'import hello\n\n\ndef test_imported_from_the_mapped_host_folder():\n' +
      '    assert hello.__file__ == "/home/docker-user/src/src/hello/__init__.py"\n',
  );
  const outcome = await runShim([devRepo, 'py.test', '-v', 'tests'], env);
  expectSuccess(outcome);
  expect(outcome.stdout).toMatch(/^tests\/test_host_copy\.py::test_imported_from_the_mapped_host_folder PASSED/m);
  expect(outcome.stdout).toMatch(/=+ 3 passed in /);
  expect(await exists(join(project.projectDir, '.pytest_cache'))).toBe(false);
});

test('a change to the source on the host shows in the next run, without rebuilding', async () => {
  const before = await runShim([devRepo, 'python', '-m', 'hello'], env);
  expectSuccess(before);
  expect(before.stdout).toBe('hello says: Hello, world!\n');

  // A different length as well as different text: Python's __pycache__ check compares
  // the source's mtime (whole seconds) and size, and this may be the same second.
  await writeFile(
    join(project.projectDir, 'src', 'hello', 'core.py'),
    'def greeting(name: str = "world") -> str:\n    return f"Good morning, {name}, from the host!"\n',
  );
  const after = await runShim([devRepo, 'python', '-m', 'hello'], env);
  expectSuccess(after);
  expect(after.stdout).toBe('hello says: Good morning, world, from the host!\n');
});

test('the prod image, pulled from the registry, runs the installed package in the home with no source mapped', async () => {
  // As on a production host: the image comes from the registry; ~/work/src/hello-main does not exist.
  await removeImages(images.filter((image) => image.startsWith(`${prodRepo}:`)));
  const greeting = await runShim([prodRepo, 'python', '-m', 'hello'], env);
  expectSuccess(greeting);
  expect(greeting.stdout).toBe('hello says: Hello, world!\n');

  const where = await runShim(
    [
      prodRepo,
      'sh',
      '-c',
      'pwd; ls; echo "PYTHONPATH=${PYTHONPATH-unset}"; python -c "import hello; print(hello.__file__)"',
    ],
    env,
  );
  expectSuccess(where);
  const lines = where.stdout.split('\n');
  expect(lines[0]).toBe('/home/docker-user');
  expect(lines).not.toContain('src');
  expect(lines).toContain('PYTHONPATH=unset');
  expect(lines).toContain('/usr/local/lib/python3.11/dist-packages/hello/__init__.py');
});

test('the project file: "." runs the dev image with the project folder as the live source, ".prod" the prod image of its branch', async () => {
  // The example names 127.0.0.1:5000/hello; this registry is on another port.
  const pyproject = join(project.projectDir, 'pyproject.toml');
  const text = await readFile(pyproject, 'utf8');
  expect(text).toMatch(/^image = "127\.0\.0\.1:5000\/hello"$/m);
  await writeFile(pyproject, text.replace(/^image = .*$/m, `image = ${JSON.stringify(devRepo)}`));
  await runCommand('git', ['init', '--quiet', '--initial-branch=main', project.projectDir], { check: true });

  // The test that checks where the package came from (the greeting was edited above).
  const tests = await runShim(['.', 'py.test', '-v', '-k', 'source_folder', 'tests'], env, '', [], project.projectDir);
  expectSuccess(tests);
  expect(tests.stdout).toMatch(
    /^tests\/test_core\.py::test_package_comes_from_the_source_folder_beside_the_tests PASSED/m,
  );
  // From a subfolder too, with the project's folder mapped, not the subfolder.
  const fromSub = await runShim(['.', 'python', '-m', 'hello'], env, '', [], join(project.projectDir, 'src', 'hello'));
  expectSuccess(fromSub);
  expect(fromSub.stdout).toBe('hello says: Good morning, world, from the host!\n');
  const prod = await runShim(['.prod', 'python', '-m', 'hello'], env, '', [], project.projectDir);
  expectSuccess(prod);
  expect(prod.stdout).toBe('hello says: Hello, world!\n');
});

test('notebook serves Jupyter on 127.0.0.1 only, behind a token, and its container goes when run-docker stops', async () => {
  const port = await freePort();
  const { child, done } = startShim(['--nb-port', String(port), devRepo, 'notebook'], env);
  child.stdin!.end();
  let stdout = '';
  let stderr = '';
  let finished: Outcome | undefined;
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  void done.then((outcome) => (finished = outcome));
  const sofar = (): string => explain(finished ?? { code: null, signal: null, stdout, stderr });
  const containers = async (): Promise<string[]> =>
    (await docker(['ps', '--all', '--quiet', '--filter', `publish=${port}/tcp`])).stdout.split('\n').filter(Boolean);

  // SIGTERM to run-docker reaches docker and the container; --rm: the engine removes it a
  // moment after it stops. Resolves to the containers still there after a bounded wait.
  let stopped: Promise<string[]> | undefined;
  const stop = (): Promise<string[]> =>
    (stopped ??= (async () => {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await done.finally(() => clearTimeout(timer));
      const deadline = Date.now() + 15_000;
      let left = await containers();
      while (left.length > 0 && Date.now() < deadline) {
        await sleep(250);
        left = await containers();
      }
      if (left.length > 0) await docker(['rm', '--force', ...left]);
      return left;
    })());

  try {
    // run-docker prints the URL to open; Jupyter's own log (stderr) masks the token as "...".
    const urlPattern = new RegExp(`http://127\\.0\\.0\\.1:${port}/\\S*[?&]token=([\\w-]+)`);
    const deadline = Date.now() + NOTEBOOK_WAIT_MS;
    let match: RegExpExecArray | null;
    while (!(match = urlPattern.exec(stdout))) {
      if (finished || Date.now() > deadline) throw new Error(`no notebook URL on stdout\n${sofar()}`);
      await sleep(200);
    }
    const [url, token] = match;

    // The URL may be printed before Jupyter listens: retry until it answers.
    let response: Response | undefined;
    let lastError: unknown;
    while (!response) {
      if (finished || Date.now() > deadline) throw new Error(`${url} never answered: ${String(lastError)}\n${sofar()}`);
      response = await fetch(url).catch((error: unknown) => {
        lastError = error;
        return undefined;
      });
      if (!response) await sleep(250);
    }
    const body = await response.text();
    expect({ status: response.status, path: new URL(response.url).pathname }).toEqual({ status: 200, path: '/tree' });
    expect(body).toContain('Jupyter');
    const refused = await fetch(`http://127.0.0.1:${port}/tree?token=not-${token}`);
    await refused.text();
    expect(new URL(refused.url).pathname).toBe('/login');

    const ids = await containers();
    expect(ids).toHaveLength(1);
    const inspected = await docker(
      ['inspect', '--format', '{{json .HostConfig.PortBindings}}\n{{json .Config}}', defined(ids[0], 'a container')],
      {
        check: true,
      },
    );
    const [bindings, config] = inspected.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(bindings).toEqual({ [`${port}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: String(port) }] });
    expect(config?.Env).toContain(`JUPYTER_TOKEN=${token}`);
    expect(JSON.stringify(config?.Cmd)).not.toContain(token);

    const left = await stop();
    expect({ left, output: sofar() }).toEqual({ left: [], output: sofar() });
  } finally {
    await stop();
  }
});
