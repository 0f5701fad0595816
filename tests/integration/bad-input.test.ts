/**
 * Bad input and broken surroundings: each gives one line on stderr that names the thing
 * and says what to do, exit 125, no stack trace, and no container left behind.
 */
import { access, chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listen } from '../helpers/listen';
import { buildBusyboxImage, docker, DOCKER_USER, pushImage, removeImages } from '../helpers/fixtures';
import { COPY_BOUNDS } from '../../common/copy-from-image';
import { expectEachTestToLeaveNoContainers } from '../helpers/own-containers';
import { startRegistry, type TestRegistry } from '../helpers/registry';
import {
  expectOneLineFailure,
  explain,
  makeHost,
  PACKAGE_VERSION,
  publish,
  removeHosts,
  runShim,
  stderrLines,
  type Outcome,
  type HostEnv,
} from '../helpers/shim';
import { defined } from '../helpers/defined';

let registry: TestRegistry;
let prefix: string;
let host: HostEnv;
let tinyRef: string;
const images: string[] = [];

/** A configured tiny or mini that cannot be used: exit 0, one warning (returned), and
 *  --version names the payload built into the shim. */
function expectOneWarningThenBuiltIn(outcome: Outcome): string {
  const lines = stderrLines(outcome);
  expect({ code: outcome.code, lines: lines.length, why: explain(outcome) }).toEqual({
    code: 0,
    lines: 1,
    why: explain(outcome),
  });
  expect(lines[0]).toMatch(/^run-docker: warning: /);
  expect(outcome.stdout).toMatch(new RegExp(`^mini built into shim ${PACKAGE_VERSION.replace(/\./g, '\\.')} \\(`, 'm'));
  return defined(lines[0], 'a warning on stderr');
}

beforeAll(async () => {
  registry = await startRegistry();
  prefix = `${registry.address}/bad-input-${process.pid}`;
  tinyRef = await publish('tiny', `${prefix}/tiny`);
  await publish('mini', `${prefix}/mini`, ['--version', '20260101-000000']);
  images.push(tinyRef, `${prefix}/tiny:${PACKAGE_VERSION}`, `${prefix}/mini:20260101-000000`);
  host = await makeHost({ RUN_DOCKER_TINY: tinyRef, RUN_DOCKER_MINI: `${prefix}/mini` });
});

afterAll(async () => {
  await removeImages(images);
  await registry?.remove();
  await removeHosts();
});

expectEachTestToLeaveNoContainers();

test.each([
  [
    'RUN_DOCKER_TINY',
    'Not A/Ref',
    /^run-docker: RUN_DOCKER_TINY "Not A\/Ref" is not a valid image reference .*Write it as/,
  ],
  [
    'RUN_DOCKER_MINI',
    'mini:',
    /^run-docker: RUN_DOCKER_MINI "mini:" is not a valid image reference \("" is not a valid tag\)/,
  ],
  // The registry stays in the message: without it a reader cannot tell which tiny is meant.
  [
    'RUN_DOCKER_TINY',
    'reg.example/rd/tiny',
    /^run-docker: the tiny image "reg\.example\/rd\/tiny" \(from env RUN_DOCKER_TINY\) has no tag or digest\. Pin tiny/,
  ],
])('a malformed %s=%j', async (name, value, message) => {
  expect(expectOneLineFailure(await runShim(['--version'], { ...host, [name]: value }))).toMatch(message);
});

test('a config file that is not JSON, and one with a malformed reference', async () => {
  const configHome = await mkdtemp(join(tmpdir(), 'run-docker-config-'));
  await mkdir(join(configHome, 'run-docker'));
  const file = join(configHome, 'run-docker', 'config.json');
  const env = { ...host, XDG_CONFIG_HOME: configHome, RUN_DOCKER_TINY: '', RUN_DOCKER_MINI: '' };
  try {
    await writeFile(file, '{"tiny": ');
    expect(expectOneLineFailure(await runShim(['--version'], env))).toMatch(
      `the config file "${file}" is not valid JSON`,
    );
    await writeFile(file, JSON.stringify({ tiny: tinyRef, mini: 'UPPER/case' }));
    expect(expectOneLineFailure(await runShim(['--version'], env))).toMatch(
      `"mini" in ${file} "UPPER/case" is not a valid image reference`,
    );
  } finally {
    await rm(configHome, { recursive: true, force: true });
  }
});

// A configured tiny that cannot be had is no stop (docs/trust.md, "The built-in payload"):
// one warning that says why, then the payload built into the shim.
test('a tiny that is not on the host, with --local', async () => {
  const absent = `${prefix}/tiny@sha256:${'0'.repeat(64)}`;
  const line = expectOneWarningThenBuiltIn(
    await runShim(['--local', '--version'], { ...host, RUN_DOCKER_TINY: absent }),
  );
  expect(line).toBe(
    `run-docker: warning: the tiny image "${absent}" is not on this host, and --local forbids pulling it; running the payload built into shim ${PACKAGE_VERSION} instead. Run once without --local to pull it, or "docker load" it onto this host.`,
  );
});

test('an engine that does not answer', async () => {
  const line = expectOneLineFailure(
    await runShim(['--version'], { ...host, DOCKER_HOST: 'unix:///tmp/run-docker-no-engine.sock' }),
  );
  expect(line).toMatch(
    /^run-docker: cannot reach the Docker engine at "unix:\/\/\/tmp\/run-docker-no-engine.sock" set by DOCKER_HOST \(ENOENT\)\. Start it/,
  );
});

test('an unreachable registry for a tiny that must be pulled', async () => {
  const line = expectOneWarningThenBuiltIn(
    await runShim(['--version'], { ...host, RUN_DOCKER_TINY: '127.0.0.1:1/rd/tiny:0.1.0' }),
  );
  expect(line).toMatch(
    /^run-docker: warning: cannot reach the registry to pull "127\.0\.0\.1:1\/rd\/tiny:0\.1\.0" .*connection refused.*; running the payload built into shim .* instead\. .*--local/,
  );
});

test('a tiny reference that is not in the registry', async () => {
  const line = expectOneWarningThenBuiltIn(
    await runShim(['--version'], { ...host, RUN_DOCKER_TINY: `${prefix}/nothing:1.0.0` }),
  );
  expect(line).toMatch(`the image "${prefix}/nothing:1.0.0" is not in its registry`);
});

// Also a tiny that is no run-docker image at all: the built-in payload is no more trusted
// than the shim already running, so a fleet keeps running while the setting is fixed.
test('a tiny that is not a run-docker image', async () => {
  const fake = `${prefix}/fake-tiny:1.0.0`;
  await buildBusyboxImage(fake);
  images.push(fake);
  const line = expectOneWarningThenBuiltIn(await runShim(['--version'], { ...host, RUN_DOCKER_TINY: fake }));
  expect(line).toMatch(`the tiny image "${fake}" cannot be used: it has no "org.run-docker.manifest.sha256" label`);
});

test('a mini repository with no usable tag', async () => {
  const line = expectOneWarningThenBuiltIn(
    await runShim(['--version'], { ...host, RUN_DOCKER_MINI: `${prefix}/empty` }),
  );
  expect(line).toMatch(`no usable tag of "${prefix}/empty" on this host or in the registry "${registry.address}"`);
});

test.each([
  [['--frobnicate', 'app'], /unknown option "--frobnicate"/],
  [['Bad Image'], /image "Bad Image" is not a valid image reference \(repository names must be lower-case\)/],
  [[], /no image given/],
  // docker's own words would be "Conflicting options: --restart and --rm".
  [
    ['--restart', 'always', 'app'],
    /^run-docker: "--restart always" needs -d: .* Add -d \(run-docker -d --restart always IMAGE …\), or leave --restart out\.$/,
  ],
  // After an option's value only the payload can place it, and only the shim can answer it.
  [
    ['-e', 'A=1', '--show-config', 'app'],
    /^run-docker: "--show-config" is answered by the shim, which reads run-docker's options only before any option's value\. Put it first: "run-docker --show-config"\.$/,
  ],
])('the mini payload rejects %j', async (args, message) => {
  expect(expectOneLineFailure(await runShim(args, host))).toMatch(message);
});

test('escape sequences in what the user gave are shown, never sent to the terminal', async () => {
  // Clears the screen and retitles the window if printed raw; a C1 CSI and a bidi override too.
  const hostile = 'app\x1b]0;owned\x07\x1b[2J\u009b31m\u202e';
  const shown = 'app\\x1b]0;owned\\x07\\x1b[2J\\u009b31m\\u202e';
  const fromArgv = await runShim([hostile], host);
  const fromEnv = await runShim(['--version'], { ...host, RUN_DOCKER_MINI: hostile });
  for (const outcome of [fromArgv, fromEnv]) {
    expect(expectOneLineFailure(outcome)).toContain(`"${shown}"`);
    // eslint-disable-next-line no-control-regex -- control characters are what it looks for
    expect(outcome.stderr.replace(/\n/g, '')).not.toMatch(/[\x00-\x1f\x7f-\x9f\u202a-\u202e]/);
  }
});

test('a user image missing with --local names it', async () => {
  const line = expectOneLineFailure(await runShim(['--local', `${prefix}/absent:1.0.0`], host));
  expect(line).toMatch(`the image "${prefix}/absent:1.0.0" is not on this host, and --local forbids pulling it`);
});

test('a user who may not use the engine socket is told what to do', async () => {
  // uid 4321, in its own home, without the docker group: the socket (root:docker, 0660) refuses it.
  // No podman on its PATH: with one, run-docker would use Podman instead (podman.test.ts).
  const own = await makeHost({ RUN_DOCKER_TINY: tinyRef, RUN_DOCKER_MINI: `${prefix}/mini`, PATH: '/nonexistent' });
  await chown(own.HOME, 4321, 4321);
  const outcome = await runShim(['--version'], own, '', [
    '/usr/bin/setpriv',
    '--reuid=4321',
    '--regid=4321',
    '--clear-groups',
  ]);
  const line = expectOneLineFailure(outcome);
  expect(line).toMatch(
    /^run-docker: permission denied on the Docker engine socket "unix:\/\/\/var\/run\/docker\.sock"\. Add your user to the "docker" group/,
  );
});

test('bad references are rejected before anything is sent to the engine', async () => {
  // No engine at that address: an engine error here would mean the engine was asked first.
  const env = { ...host, DOCKER_HOST: 'unix:///tmp/run-docker-no-engine.sock' };
  expect(expectOneLineFailure(await runShim(['--version'], { ...env, RUN_DOCKER_MINI: 'a//b' }))).toMatch(
    /RUN_DOCKER_MINI "a\/\/b" is not a valid image reference/,
  );
  expect(
    expectOneLineFailure(await runShim(['--version'], { ...env, RUN_DOCKER_TINY: `x@sha256:${'0'.repeat(10)}` })),
  ).toMatch(/is not a digest/);
});

test('a pinned project image that is not in its registry', async () => {
  const line = expectOneLineFailure(await runShim([`${prefix}/absent:1.0.0`, 'true'], host));
  expect(line).toMatch(`the image "${prefix}/absent:1.0.0" is not in its registry (`);
  expect(line).toMatch(/\. Check the name and the tag, or publish it first\.$/);
});

// run-docker's parser takes a bracketed IPv6 registry as distribution/reference's grammar does
// (and the locator finds tags at [::ffff:7f00:1], which URL makes of [::ffff:127.0.0.1]); dockerd
// 20.10 refuses every IPv6 registry with HTTP 400 "invalid reference format".
test.each([
  ['pinned', ':20261201-000000'],
  ['its newest tag found in the registry', ''],
])(
  'an image reference the engine refuses to read (a registry written as an IPv4-mapped address), %s: one line naming it and how to write it',
  async (_, tag) => {
    const pushed = `${prefix}/mapped:20261201-000000`;
    await buildBusyboxImage(pushed);
    images.push(pushed);
    await pushImage(pushed);
    const port = defined(registry.address.split(':')[1], 'the port of the registry');
    const mapped = `[::ffff:7f00:1]:${port}/bad-input-${process.pid}/mapped`;
    const line = expectOneLineFailure(await runShim([`${mapped}${tag}`, 'true'], host));
    expect(line).toBe(
      `run-docker: the engine refused the format of the image reference "${mapped}:20261201-000000" (HTTP 400: invalid reference format). Write its registry as the engine accepts it: a host name or an IPv4 address, here "${pushed}" (Docker 20.10 takes no IPv6 address in a reference).`,
    );
  },
);

// The run payload copies /etc/passwd out of the image (a created container) to find docker-user,
// within COPY_BOUNDS: past them it cannot tell, so it says so, and neither guesses "no such
// user" nor remembers that for the image.
test.each([
  ['the file', COPY_BOUNDS.maxFileBytes, '', '32 MiB'],
  ['its archive', COPY_BOUNDS.maxArchiveBytes, ', as the engine copies it out,', '64 MiB'],
])(
  'an image whose /etc/passwd is past the bound on %s: one line naming the image and the bound, no container left, nothing remembered',
  async (_, bound, how, shown) => {
    const reference = `${prefix}/big-passwd:${bound}`;
    const entries = `root:x:0:0:root:/root:/bin/sh\n${DOCKER_USER.name}:x:${DOCKER_USER.uid}:${DOCKER_USER.gid}::${DOCKER_USER.home}:/bin/sh\n`;
    const filler = 'nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n';
    const passwd = (entries + filler.repeat(Math.ceil(bound / filler.length) + 1)).slice(0, bound + 1);
    await buildBusyboxImage(reference, { files: { '/etc/passwd': passwd } });
    images.push(reference);
    const own = await makeHost({ RUN_DOCKER_TINY: tinyRef, RUN_DOCKER_MINI: `${prefix}/mini` });
    const line = expectOneLineFailure(await runShim([reference, 'true'], own));
    expect(line).toBe(
      `run-docker: the /etc/passwd of the image "${reference}"${how} is larger than ${shown}, the most run-docker copies out of an image to find the user "docker-user". Run it as root with --root, or fix the image: an /etc/passwd is a few kB.`,
    );
    const { stdout: id } = await docker(['image', 'inspect', '--format', '{{.Id}}', reference], { check: true });
    const entry = join(
      own.XDG_CACHE_HOME ?? '',
      'run-docker',
      'mini',
      'image-users',
      `${id.trim().replace(/^sha256:/, '')}.json`,
    );
    await expect(access(entry)).rejects.toMatchObject({ code: 'ENOENT' });
  },
);

/** A registry that answers /v2/ and then rate limits everything, as Docker Hub does past its pull limit. */
async function startRateLimitedRegistry(): Promise<{ address: string; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    if (req.url === '/v2/') {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Docker-Distribution-API-Version': 'registry/2.0' });
      res.end('{}');
      return;
    }
    res.writeHead(429, { 'Content-Type': 'application/json', 'Retry-After': '3600' });
    res.end(
      JSON.stringify({ errors: [{ code: 'TOOMANYREQUESTS', message: 'You have reached your pull rate limit.' }] }),
    );
  });
  const serverPort = await listen(server);
  const port = serverPort;
  return {
    address: `127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

test('a registry that rate limits: the pull names it, and tag lookups fall back to local images with one warning', async () => {
  const limited = await startRateLimitedRegistry();
  try {
    const pinned = await runShim([`${limited.address}/team/app:1.0.0`, 'true'], host);
    expect(expectOneLineFailure(pinned)).toMatch(
      new RegExp(
        `^run-docker: the registry is rate limiting this host and refused to pull "${limited.address}/team/app:1\\.0\\.0" \\(.*toomanyrequests.*\\)\\. Wait and try again, log in`,
      ),
    );
    expect(
      limited.requests.some(
        (line) =>
          line.startsWith('GET /v2/team/app/manifests/1.0.0') || line.startsWith('HEAD /v2/team/app/manifests/1.0.0'),
      ),
    ).toBe(true);

    const local = `${limited.address}/team/app:20261128-000000`;
    await buildBusyboxImage(local);
    images.push(local);
    const newest = await runShim([`${limited.address}/team/app`, 'echo', 'local copy'], host);
    expect(newest.stdout).toBe('local copy\n');
    expect(newest.code).toBe(0);
    expect(stderrLines(newest)).toEqual([
      `run-docker: warning: the registry "${limited.address}" is rate limiting this host (HTTP 429 Too Many Requests, retry after 3600 s); using the images of "${limited.address}/team/app" on this host`,
    ]);
  } finally {
    await limited.close();
  }
});
