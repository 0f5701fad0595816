/**
 * The single executable on a host with Docker and no Node.js, installed as docs/install.md
 * says: `docker create` + `docker cp` out of the image scripts/build-sea builds, then run.
 *
 * The "host" is a container from run-docker-test/python-base:bookworm (Debian 12 with glibc
 * and libstdc++, which the executable links against, no Node.js at all, and no libatomic,
 * which Node.js 26's official binary would need), with the engine's socket and
 * the machine's docker CLI (a static binary) mounted in. The executable is installed into a
 * folder of the machine mounted as the host's /usr/local/bin, so later calls on fresh
 * containers of the same host find it there. HOME is a folder of the machine mounted at the
 * same path: the data folder the executable creates is the one the engine binds.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBusyboxImage, docker, removeImages, runCommand, TEST_LABEL } from '../helpers/fixtures';
import { ensurePythonBaseImage, PYTHON_BASE_BUILD_TIMEOUT_MS } from '../helpers/python-base';
import { defined } from '../helpers/defined';
import { PACKAGE_VERSION, ROOT } from '../helpers/shim';

const ENGINE_SOCKET = '/var/run/docker.sock';
const BUILD_SEA = join(ROOT, 'scripts', 'build-sea');
const SEA_NODE_VERSION = defined(
  /^readonly NODE_VERSION=(\S+)$/m.exec(readFileSync(BUILD_SEA, 'utf8'))?.[1],
  'a line `readonly NODE_VERSION=…` in scripts/build-sea',
);

const seaImage = `run-docker-test/sea-${process.pid}:test`;
const app = `run-docker-test/sea-${process.pid}/app`;
let host: string;
let work: string;
let home: string;
let bin: string;
let dockerCli: string;

interface HostOutcome {
  code: number;
  stdout: string;
  stderr: string;
}

const explain = (outcome: HostOutcome) =>
  `exit ${outcome.code}\n--- stdout\n${outcome.stdout}--- stderr\n${outcome.stderr}`;

function expectExit(outcome: HostOutcome, code: number): void {
  expect({ code: outcome.code, output: explain(outcome) }).toEqual({ code, output: explain(outcome) });
}

/** Runs COMMAND on the Node-less "host": root (the engine's socket is root's), no network. */
function onHost(command: string[]): Promise<HostOutcome> {
  return docker([
    'run',
    '--rm',
    '--network',
    'none',
    '--label',
    `${TEST_LABEL}=1`,
    '--volume',
    `${ENGINE_SOCKET}:/var/run/docker.sock`,
    '--volume',
    `${dockerCli}:/usr/bin/docker:ro`,
    '--volume',
    `${bin}:/usr/local/bin`,
    '--volume',
    `${home}:${home}`,
    '--workdir',
    home,
    '--env',
    `HOME=${home}`,
    host,
    ...command,
  ]);
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'run-docker-sea-'));
  home = join(work, 'home');
  bin = join(work, 'bin');
  await runCommand('mkdir', [home, bin], { check: true });
  dockerCli = (await runCommand('sh', ['-c', 'command -v docker'], { check: true })).stdout.trim();
  // The three are independent; the executable's build (strip, inject, image) takes longest.
  [host] = await Promise.all([
    ensurePythonBaseImage(),
    runCommand(BUILD_SEA, ['--output', join(work, 'built', 'run-docker'), '--image', seaImage], { check: true }),
    buildBusyboxImage(`${app}:1.0.0`),
  ]);
}, PYTHON_BASE_BUILD_TIMEOUT_MS);

afterAll(async () => {
  await removeImages([seaImage, `${app}:1.0.0`]);
  if (work) await rm(work, { recursive: true, force: true });
});

test('the image holds the executable, its notices and the licences, with its version and Node.js in labels', async () => {
  const created = await docker(['create', '--label', `${TEST_LABEL}=1`, seaImage, '/not-started'], { check: true });
  const id = created.stdout.trim();
  try {
    const listing = await runCommand('sh', ['-c', 'docker export "$1" | tar -t', 'sh', id], { check: true });
    // docker export adds the engine's own stubs (/.dockerenv, /etc/hostname, …): only the image's folder counts.
    expect(
      listing.stdout
        .split('\n')
        .filter((entry) => entry.startsWith('run-docker-sea/'))
        .sort(),
    ).toEqual([
      'run-docker-sea/',
      'run-docker-sea/LICENSE',
      'run-docker-sea/NODE-LICENSE.txt',
      'run-docker-sea/THIRD-PARTY-NOTICES.txt',
      'run-docker-sea/run-docker',
    ]);
  } finally {
    await docker(['rm', '--force', id]);
  }
  const labels: unknown = JSON.parse(
    (await docker(['image', 'inspect', '--format', '{{json .Config.Labels}}', seaImage], { check: true })).stdout,
  );
  expect(labels).toMatchObject({
    'org.run-docker.kind': 'sea',
    'org.opencontainers.image.version': PACKAGE_VERSION,
    'org.run-docker.node-version': SEA_NODE_VERSION,
  });
});

describe('a host with Docker and no Node.js', () => {
  test('installs the executable with docker create, docker cp and docker rm, and leaves no container', async () => {
    const noNode = await onHost(['sh', '-c', 'command -v node nodejs']);
    expect(noNode.code).not.toBe(0);
    const install = await onHost([
      'sh',
      '-c',
      // docs/install.md, "A server with only Docker", word for word but for the label (this suite's cleanup).
      'id=$(docker create --label "$2" "$1" /not-started) && docker cp "$id:/run-docker-sea/run-docker" /usr/local/bin/run-docker; status=$?; docker rm "$id" >/dev/null; exit $status',
      'sh',
      seaImage,
      `${TEST_LABEL}=sea-install`,
    ]);
    expectExit(install, 0);
    expect(await readdir(bin)).toEqual(['run-docker']);
    expect((await stat(join(bin, 'run-docker'))).mode & 0o777).toBe(0o755);
    expect(
      (await docker(['ps', '--all', '--quiet', '--filter', `label=${TEST_LABEL}=sea-install`], { check: true })).stdout,
    ).toBe('');
  });

  test('run-docker --version runs the built-in payload, with no registry and no config', async () => {
    const outcome = await onHost(['run-docker', '--version']);
    expectExit(outcome, 0);
    expect(outcome.stderr).toBe('');
    expect(outcome.stdout.split('\n').slice(0, 3)).toEqual([
      `run-docker shim ${PACKAGE_VERSION}`,
      'tiny none',
      `mini built into shim ${PACKAGE_VERSION} (no tiny configured)`,
    ]);
  });

  test("a --local run of a busybox image passes its output and exit code through, and its data folder is the host's", async () => {
    const outcome = await onHost([
      'run-docker',
      '--local',
      app,
      'sh',
      '-c',
      'echo "single executable $IMAGE_VERSION" > "$DATADIR/out.txt"; echo ran; exit 6',
    ]);
    expectExit(outcome, 6);
    expect(outcome.stdout).toBe('ran\n');
    expect(outcome.stderr).toBe('');
    expect(await readFile(join(home, 'work', 'data', 'out.txt'), 'utf8')).toBe('single executable 1.0.0\n');
  });
});
