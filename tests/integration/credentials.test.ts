/**
 * A registry that needs a login (Debian's registry with htpasswd): the mini and the project
 * image live there, so the locator's tag listing, the shim's pull of mini and the payload's
 * pull of the project image all need the credentials `docker login` stored — in `auths`,
 * or behind a credential helper. No secret may ever be printed.
 */
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildBusyboxImage, docker, removeImages } from '../helpers/fixtures';
import { startRegistry, type TestRegistry } from '../helpers/registry';
import { explain, makeHost, PACKAGE_VERSION, publish, removeHosts, runShim, type Outcome } from '../helpers/shim';

const USER = 'ci-puller';
const PASSWORD = 'pw with spaces & "quotes"';
const BASIC = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');
const PROJECT_TAG = '20261128-090000';

let open: TestRegistry;
let secured: TestRegistry;
let tinyRef: string;
let miniRepo: string;
let projectRepo: string;
/** A Docker config folder logged in to the secured registry, for pushing. */
let publisherConfig: string;
const localImages: string[] = [];

/** Pushes REFERENCE with the publisher's login, then removes it here so the host must pull it. */
async function pushSecured(reference: string): Promise<void> {
  await docker(['--config', publisherConfig, 'push', '--quiet', reference], { check: true });
  await removeImages([reference]);
}

/** The images the host under test must pull again on every run. */
async function forgetPulledImages(): Promise<void> {
  const { stdout } = await docker(['images', '--format', '{{.Repository}}:{{.Tag}}'], { check: true });
  await removeImages(stdout.split('\n').filter((ref) => ref.startsWith(`${secured.address}/`)));
}

function expectNoSecret(outcome: Outcome): void {
  for (const secret of [PASSWORD, BASIC, 'helper-secret']) {
    expect(outcome.stdout).not.toContain(secret);
    expect(outcome.stderr).not.toContain(secret);
  }
}

beforeAll(async () => {
  open = await startRegistry();
  secured = await startRegistry({ auth: { username: USER, password: PASSWORD } });
  const host = await makeHost({});
  publisherConfig = join(host.HOME, 'publisher-docker-config');
  await docker(['--config', publisherConfig, 'login', '--username', USER, '--password-stdin', secured.address], {
    input: PASSWORD,
    check: true,
  });

  tinyRef = await publish('tiny', `${open.address}/credentials-${process.pid}/tiny`);
  localImages.push(tinyRef);
  miniRepo = `${secured.address}/credentials-${process.pid}/mini`;
  const miniLocal = await publish('mini', miniRepo, ['--version', '20261128-080000', '--no-push']);
  await pushSecured(miniLocal);

  projectRepo = `${secured.address}/credentials-${process.pid}/project`;
  await buildBusyboxImage(`${projectRepo}:${PROJECT_TAG}`);
  await pushSecured(`${projectRepo}:${PROJECT_TAG}`);
});

afterAll(async () => {
  await forgetPulledImages();
  await removeImages(localImages);
  await secured?.remove();
  await open?.remove();
  await removeHosts();
});

beforeEach(forgetPulledImages);

/** A host whose Docker config folder holds CONFIG (and HELPER_DIR on PATH, if given). */
async function hostWithDockerConfig(
  config: object,
  extraEnv: Record<string, string> = {},
): Promise<Record<string, string>> {
  const host = await makeHost({ RUN_DOCKER_TINY: tinyRef, RUN_DOCKER_MINI: miniRepo, ...extraEnv });
  const configDir = join(host.HOME, '.docker');
  await mkdir(configDir, { recursive: true });
  await writeFile(join(configDir, 'config.json'), JSON.stringify(config));
  return host;
}

test('without a login the user is told to log in, and nothing is pulled', async () => {
  const host = await hostWithDockerConfig({});
  const outcome = await runShim([projectRepo, 'true'], host);
  // No mini can be had: one warning and the payload built into the shim, which then meets
  // the same registry for the project image, and that is the one error line.
  const login = `Log in with "docker login ${secured.address}" (with Podman: "podman login ${secured.address}"), whose credentials run-docker reads, or check the repository name.`;
  expect({ code: outcome.code, stderr: outcome.stderr }).toEqual({
    code: 125,
    stderr:
      `run-docker: warning: authentication required for "${miniRepo}"; running the payload built into shim ${PACKAGE_VERSION} instead. ${login}\n` +
      `run-docker: authentication required for "${projectRepo}". ${login}\n`,
  });
});

test('credentials in "auths" list tags and pull both mini and the project image', async () => {
  const host = await hostWithDockerConfig({ auths: { [secured.address]: { auth: BASIC } } }, { RUN_DOCKER_DEBUG: '1' });
  const outcome = await runShim([projectRepo, 'echo', 'pulled with a login'], host);
  expect(outcome.code).toBe(0);
  expect(outcome.stdout).toBe('pulled with a login\n');
  const { stdout: images } = await docker(['images', '--format', '{{.Repository}}:{{.Tag}}'], { check: true });
  expect(images.split('\n')).toEqual(
    expect.arrayContaining([`${projectRepo}:${PROJECT_TAG}`, `${miniRepo}:20261128-080000`]),
  );
  expectNoSecret(outcome);
}, 120_000);

test('a credential helper (credsStore) is asked over stdin, and its secret never shows, not even in a dry run', async () => {
  const helperDir = join((await makeHost({})).HOME, 'helpers');
  const askedLog = join(helperDir, 'asked.log');
  await mkdir(helperDir);
  // A docker-credential-* program as the protocol defines it: `get`, server URL on stdin, JSON out.
  await writeFile(
    join(helperDir, 'docker-credential-rdtest'),
    `#!/bin/sh
[ "$1" = get ] || exit 2
read -r server
echo "$server" >> '${askedLog}'
if [ "$server" = '${secured.address}' ]; then
  printf '{"ServerURL":"%s","Username":"${USER}","Secret":"%s"}' "$server" '${PASSWORD.replace(/"/g, '\\"')}'
  exit 0
fi
echo "credentials not found in native keychain"; exit 1
`,
  );
  await chmod(join(helperDir, 'docker-credential-rdtest'), 0o755);
  const host = await hostWithDockerConfig(
    // The auths entry is empty, as `docker login` leaves it when a store holds the secret.
    { credsStore: 'rdtest', auths: { [secured.address]: {} } },
    { PATH: `${helperDir}:${process.env.PATH}`, RUN_DOCKER_DEBUG: '1' },
  );

  const run = await runShim([projectRepo, 'echo', 'via the helper'], host);
  expect(run.stdout).toBe('via the helper\n');
  expect(run.code).toBe(0);
  expectNoSecret(run);

  const dryRun = await runShim(['--dry-run', projectRepo, 'true'], host);
  expect(dryRun.code).toBe(0);
  expect(dryRun.stdout).toContain(`${projectRepo}:${PROJECT_TAG}`);
  expectNoSecret(dryRun);

  const asked = (await readFile(askedLog, 'utf8')).trim().split('\n');
  expect(asked.length).toBeGreaterThan(0);
  expect(new Set(asked)).toEqual(new Set([secured.address]));
}, 120_000);

test('a wrong password is named as refused, without the password', async () => {
  const wrong = Buffer.from(`${USER}:not-the-password`).toString('base64');
  const host = await hostWithDockerConfig({ auths: { [secured.address]: { auth: wrong } } });
  const outcome = await runShim([projectRepo, 'true'], host);
  expect(outcome.code).toBe(125);
  const again = (repository: string) =>
    `Log in again with "docker login ${secured.address}" (with Podman: "podman login ${secured.address}") and check that the account may pull "${repository}".`;
  expect(outcome.stderr).toBe(
    `run-docker: warning: the registry "${secured.address}" refused the stored credentials for "${miniRepo}"; running the payload built into shim ${PACKAGE_VERSION} instead. ${again(miniRepo)}\n` +
      `run-docker: the registry "${secured.address}" refused the stored credentials for "${projectRepo}". ${again(projectRepo)}\n`,
  );
  expect(outcome.stderr).not.toContain('not-the-password');
  expect(explain(outcome)).not.toContain(wrong);
});
