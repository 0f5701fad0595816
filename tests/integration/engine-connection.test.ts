/**
 * run-docker reaches the engine the docker CLI would: DOCKER_HOST with TLS
 * (DOCKER_TLS_VERIFY, DOCKER_CERT_PATH), or the current docker context. The "remote"
 * engines are proxies in front of the real one that record what they relay, so each test
 * can see that the shim, the payload and the `docker run` it spawns all went that way.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBusyboxImage, docker, removeImages, runCommand } from '../helpers/fixtures';
import {
  makeTestCertificates,
  startTlsEngineProxy,
  startUnixEngineProxy,
  type EngineProxy,
  type TestCertificates,
} from '../helpers/engine-proxy';
import { startRegistry, type TestRegistry } from '../helpers/registry';
import { startSshServer, useSshClient } from '../helpers/ssh-server';
import { explain, makeHost, publish, removeHosts, runShim, stderrLines } from '../helpers/shim';

let registry: TestRegistry;
let certs: TestCertificates;
let tlsProxy: EngineProxy;
let unixProxy: EngineProxy;
let workDir: string;
let hostBase: Record<string, string>;
const PROJECT = `run-docker-test/engine-connection-${process.pid}:20261128-000000`;
const published: string[] = [];

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'run-docker-engine-'));
  registry = await startRegistry();
  const tiny = await publish('tiny', `${registry.address}/engine-${process.pid}/tiny`);
  const mini = await publish('mini', `${registry.address}/engine-${process.pid}/mini`, [
    '--version',
    '20261128-000000',
  ]);
  published.push(tiny, mini, `${registry.address}/engine-${process.pid}/mini:20261128-000000`);
  await buildBusyboxImage(PROJECT);
  certs = await makeTestCertificates(workDir);
  tlsProxy = await startTlsEngineProxy(certs);
  unixProxy = await startUnixEngineProxy(join(workDir, 'engine.sock'));
  // --local: tiny, mini and the project are on this host; only the engine connection is under test.
  hostBase = { RUN_DOCKER_TINY: tiny, RUN_DOCKER_MINI: `${registry.address}/engine-${process.pid}/mini` };
});

afterAll(async () => {
  await tlsProxy?.close();
  await unixProxy?.close();
  await removeImages([PROJECT, ...published]);
  await registry?.remove();
  await rm(workDir, { recursive: true, force: true });
  await removeHosts();
});

/** The requests both kinds of client made through PROXY since `from`: dockerode's are unversioned, the CLI's are /v1.NN/. */
function clientsSeen(proxy: EngineProxy, from: number): { shim: boolean; cli: boolean } {
  const seen = proxy.requests.slice(from);
  return {
    // The shim's requests are unversioned (a warm call sends GET /images/json, or the event log
    // with the image index); the CLI's carry /v1.NN.
    shim: seen.some((line) => /^GET \/(?:images\/(?:[^ ]+\/)?json|events\?)/.test(line)),
    cli: seen.some((line) => /^POST \/v1\.\d+\/containers\/create/.test(line)),
  };
}

test('DOCKER_HOST over TLS with client certificates (DOCKER_TLS_VERIFY, DOCKER_CERT_PATH)', async () => {
  const host = await makeHost({
    ...hostBase,
    DOCKER_HOST: tlsProxy.host,
    DOCKER_TLS_VERIFY: '1',
    DOCKER_CERT_PATH: certs.clientDir,
  });
  const before = tlsProxy.requests.length;
  const outcome = await runShim(['--local', PROJECT, 'echo', 'over TLS'], host);
  expect({ code: outcome.code, stdout: outcome.stdout }).toEqual({ code: 0, stdout: 'over TLS\n' });
  expect(clientsSeen(tlsProxy, before)).toEqual({ shim: true, cli: true });
});

test('the current docker context, created and chosen with the docker CLI', async () => {
  const configDir = join(workDir, 'config-with-context');
  const cli = (args: string[]) => docker(['--config', configDir, ...args], { check: true });
  await cli([
    'context',
    'create',
    'remote-tls',
    '--docker',
    `host=${tlsProxy.host},ca=${certs.ca},cert=${certs.clientDir}/cert.pem,key=${certs.clientDir}/key.pem`,
  ]);
  await cli(['context', 'create', 'local-socket', '--docker', `host=${unixProxy.host}`]);
  await cli(['context', 'use', 'remote-tls']);
  const host = await makeHost({ ...hostBase, DOCKER_CONFIG: configDir });

  const tlsBefore = tlsProxy.requests.length;
  const viaCurrent = await runShim(['--local', PROJECT, 'echo', 'current context'], host);
  expect(viaCurrent.stdout).toBe('current context\n');
  expect(clientsSeen(tlsProxy, tlsBefore)).toEqual({ shim: true, cli: true });

  const unixBefore = unixProxy.requests.length;
  const viaEnv = await runShim(['--local', PROJECT, 'echo', 'DOCKER_CONTEXT'], {
    ...host,
    DOCKER_CONTEXT: 'local-socket',
  });
  expect(viaEnv.stdout).toBe('DOCKER_CONTEXT\n');
  expect(clientsSeen(unixProxy, unixBefore)).toEqual({ shim: true, cli: true });

  // DOCKER_HOST beats every context, for the docker CLI and for run-docker.
  const unixBeforeHost = unixProxy.requests.length;
  const tlsBeforeHost = tlsProxy.requests.length;
  const viaHost = await runShim(['--local', PROJECT, 'echo', 'DOCKER_HOST'], {
    ...host,
    DOCKER_HOST: unixProxy.host,
    DOCKER_CONTEXT: 'remote-tls',
  });
  expect(viaHost.stdout).toBe('DOCKER_HOST\n');
  expect(clientsSeen(unixProxy, unixBeforeHost)).toEqual({ shim: true, cli: true });
  expect(tlsProxy.requests.length).toBe(tlsBeforeHost);
});

test('an unknown context, a missing client certificate and a plain-HTTP client each get one clear line', async () => {
  const host = await makeHost(hostBase);
  const oneLine = (outcome: Awaited<ReturnType<typeof runShim>>) => {
    expect(outcome.code).toBe(125);
    expect(stderrLines(outcome)).toHaveLength(1);
    return stderrLines(outcome)[0];
  };

  expect(oneLine(await runShim(['--local', PROJECT, 'true'], { ...host, DOCKER_CONTEXT: 'no-such-context' }))).toBe(
    'run-docker: the docker context "no-such-context" (from DOCKER_CONTEXT) does not exist. List the contexts with "docker context ls", then set DOCKER_CONTEXT to one of them or unset it.',
  );

  const noClientCert = await runShim(['--local', PROJECT, 'true'], {
    ...host,
    DOCKER_HOST: tlsProxy.host,
    DOCKER_TLS_VERIFY: '1',
    DOCKER_CERT_PATH: join(workDir, 'nothing-here'),
  });
  expect(oneLine(noClientCert)).toMatch(
    new RegExp(
      `^run-docker: the TLS handshake with the Docker engine at "${tlsProxy.host}" set by DOCKER_HOST failed \\(\\w+\\)\\. Check the CA`,
    ),
  );

  const plainHttp = await runShim(['--local', PROJECT, 'true'], { ...host, DOCKER_HOST: tlsProxy.host });
  expect(oneLine(plainHttp)).toMatch(
    new RegExp(`^run-docker: cannot reach the Docker engine at "${tlsProxy.host}" set by DOCKER_HOST`),
  );
  expect(explain(plainHttp)).not.toContain('    at ');
});

// The shim and the payload reach the engine as the docker CLI does: the system's ssh runs
// `docker system dial-stdio` on the far side. A dry run spawns no docker CLI, so only
// run-docker's own connection is tested; ssh checks the host key and offers the key.
test('DOCKER_HOST=ssh:// through the system ssh: a known host and an accepted key work; an unknown host key and a refused key are one line each', async () => {
  const sshd = await startSshServer(join(workDir, 'sshd'));
  try {
    const host = await makeHost({ ...hostBase, DOCKER_HOST: sshd.host });
    const key = join(sshd.clientHome, '.ssh', 'id_ed25519');
    const known = await useSshClient(join(workDir, 'ssh-known'), {
      knownHosts: [sshd.knownHostsLine],
      identityFile: key,
    });
    const outcome = await runShim(['--local', '--dry-run', PROJECT, 'echo', 'over ssh'], { ...host, ...known });
    expect({ code: outcome.code, stderr: outcome.stderr }).toEqual({ code: 0, stderr: '' });
    expect(outcome.stdout).toMatch(
      /^# engine ssh:\/\/\S+: shares this host's files \(it saw a folder made here\)\ndocker run .* run-docker-test\/engine-connection-\d+:20261128-000000 echo 'over ssh'\n$/,
    );
    expect(sshd.log()).toMatch(/Accepted publickey for \S+ from 127\.0\.0\.1/);

    // ssh2 connected to any host key; ssh refuses one it does not know, before offering a key.
    const accepted = sshd.log().match(/Accepted publickey/g)?.length ?? 0;
    const unknown = await useSshClient(join(workDir, 'ssh-unknown'), { knownHosts: [], identityFile: key });
    const unverified = await runShim(['--local', '--dry-run', PROJECT, 'true'], { ...host, ...unknown });
    expect(unverified.code).toBe(125);
    expect(stderrLines(unverified)).toEqual([
      `run-docker: the ssh host key of the Docker engine at "${sshd.host}" set by DOCKER_HOST could not be verified (ssh: Host key verification failed.). Check the host's key and record it in ~/.ssh/known_hosts (connecting once with "ssh HOST" asks), then check that "ssh HOST docker system dial-stdio" works (the docker CLI runs the same).`,
    ]);
    expect(sshd.log().match(/Accepted publickey/g)?.length ?? 0).toBe(accepted);

    const stranger = join(workDir, 'ssh-stranger-key');
    await runCommand('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', stranger], { check: true });
    const refusedKey = await useSshClient(join(workDir, 'ssh-refused'), {
      knownHosts: [sshd.knownHostsLine],
      identityFile: stranger,
    });
    const refused = await runShim(['--local', '--dry-run', PROJECT, 'true'], { ...host, ...refusedKey });
    expect(refused.code).toBe(125);
    expect(stderrLines(refused)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^run-docker: the ssh server of the Docker engine at "${sshd.host}" set by DOCKER_HOST refused every key offered \\(ssh: .*Permission denied \\(publickey\\)\\.\\)\\. Add your key to ssh-agent`,
        ),
      ),
    ]);
  } finally {
    await sshd.stop();
  }
}, 120_000);

// A pull over ssh: POST /images/create with its progress streamed back through ssh's stdio
// (common/engine/pull-over-engine-api.ts over dial-over-ssh.ts), as a fresh host pulls tiny and mini.
test('DOCKER_HOST=ssh://: a host without tiny and mini pulls both through the system ssh and runs the mini', async () => {
  const miniVersion = '20261129-000000';
  const tinyRepo = `${registry.address}/engine-${process.pid}/ssh-tiny`;
  const miniRepo = `${registry.address}/engine-${process.pid}/ssh-mini`;
  const tiny = await publish('tiny', tinyRepo);
  const mini = await publish('mini', miniRepo, ['--version', miniVersion]);
  published.push(tiny, mini, `${miniRepo}:${miniVersion}`);
  await removeImages([tiny, mini, `${miniRepo}:${miniVersion}`]);
  const isHere = async (image: string) => (await docker(['image', 'inspect', '--format', '{{.Id}}', image])).code === 0;
  expect(await isHere(`${miniRepo}:${miniVersion}`)).toBe(false);

  const sshd = await startSshServer(join(workDir, 'sshd-pull'));
  try {
    const client = await useSshClient(join(workDir, 'ssh-pull'), {
      knownHosts: [sshd.knownHostsLine],
      identityFile: join(sshd.clientHome, '.ssh', 'id_ed25519'),
    });
    const host = await makeHost({ RUN_DOCKER_TINY: tiny, RUN_DOCKER_MINI: miniRepo, DOCKER_HOST: sshd.host });
    const outcome = await runShim(['--version'], { ...host, ...client });
    expect({ code: outcome.code, stderr: outcome.stderr }).toEqual({ code: 0, stderr: '' });
    expect(outcome.stdout.split('\n')[2]).toMatch(
      new RegExp(`^mini ${miniRepo.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:${miniVersion} \\(${miniVersion}, payload `),
    );
    expect(await isHere(`${miniRepo}:${miniVersion}`)).toBe(true);
    expect(sshd.log()).toMatch(/Accepted publickey for \S+ from 127\.0\.0\.1/);
  } finally {
    await sshd.stop();
  }
});

test('--show-config names the engine and what chose it, also when it cannot be used, without contacting it', async () => {
  const host = await makeHost(hostBase);
  const engineLine = async (env: Record<string, string>) => {
    const outcome = await runShim(['--show-config'], { ...host, ...env });
    expect({ code: outcome.code, stderr: outcome.stderr }).toEqual({ code: 0, stderr: '' });
    return outcome.stdout.split('\n').find((line) => line.startsWith('engine '));
  };
  expect(await engineLine({ DOCKER_HOST: 'tcp://127.0.0.1:1', DOCKER_TLS_VERIFY: '1' })).toMatch(
    /^engine +tcp:\/\/127\.0\.0\.1:1 +\(env DOCKER_HOST\)$/,
  );
  expect(await engineLine({ DOCKER_CONTEXT: 'no-such-context' })).toMatch(
    /^engine +unusable: the docker context "no-such-context" \(from DOCKER_CONTEXT\) does not exist +\(DOCKER_HOST \/ docker context\)$/,
  );
});
