/**
 * Engines on another host (issue 21, part A), against a second real engine that sees other
 * files than this host (tests/helpers/second-engine.ts), over tcp and over ssh; and the main
 * engine behind the same kind of tcp relay, which does share this host's files. Bind mounts
 * name the engine host's folders: nothing of this host may be mapped by accident, and what
 * cannot be mapped is one line. No tiny is configured: the payload built into the shim runs.
 */
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildBusyboxImage, removeImages } from '../helpers/fixtures';
import { startTcpEngineRelay, startUnixEngineProxy, type EngineProxy } from '../helpers/engine-proxy';
import { startSecondEngine, type SecondEngine } from '../helpers/second-engine';
import {
  expectOneLineFailure,
  explain,
  makeHost,
  removeHosts,
  runShim,
  stderrLines,
  type HostEnv,
  type Outcome,
} from '../helpers/shim';

const APP = `run-docker-test/remote-${process.pid}/app`;
const IMAGE = `${APP}:20261128-000000`;
let engine: SecondEngine;
let mainRelay: EngineProxy;
/** A folder only the second engine's host has, with a file in it. */
const ITS_SOURCE = `/tmp/its-src-${process.pid}`;
const ITS_DATA = `/tmp/its-data-${process.pid}`;

beforeAll(async () => {
  await buildBusyboxImage(IMAGE);
  engine = await startSecondEngine();
  await engine.copyImages([IMAGE]);
  mainRelay = await startTcpEngineRelay();
  for (const folder of [ITS_SOURCE, ITS_DATA]) {
    const made = await engine.onItsHost(['mkdir', '-p', '-m', '0777', folder]);
    if (made.code !== 0) throw new Error(made.stderr);
  }
  await engine.onItsHost(['sh', '-c', `echo its-own > ${ITS_SOURCE}/marker`]);
}, 180_000);

afterAll(async () => {
  await mainRelay?.close();
  await engine?.stop();
  await removeImages([IMAGE]);
  await removeHosts();
});

function expectSuccess(outcome: Outcome): void {
  if (outcome.code !== 0) throw new Error(`expected exit 0\n${explain(outcome)}`);
}

/** A host whose ~/work/src/app exists here (a dev run on a local engine), with a marker file. */
async function developerHost(env: Record<string, string>): Promise<HostEnv> {
  const host = await makeHost(env);
  await mkdir(join(host.HOME, 'work', 'src', 'app'), { recursive: true });
  await writeFile(join(host.HOME, 'work', 'src', 'app', 'marker'), 'this host\n');
  return host;
}

/** The containers the second engine has now, of any state: the probe must make none. */
async function itsContainers(): Promise<string[]> {
  const listed = await engine.docker(['ps', '--all', '--quiet']);
  return listed.stdout.split('\n').filter(Boolean);
}

test('over tcp, a prod run maps no folder of this host: data and log are left out in one line, nothing is made here, no container is left', async () => {
  const host = await makeHost({ DOCKER_HOST: engine.tcpHost });
  const before = await itsContainers();
  const outcome = await runShim(['--local', IMAGE, 'sh', '-c', 'echo "$DATADIR $LOGDIR"; ls /home/docker-user'], host);
  expectSuccess(outcome);
  expect(outcome.stdout).toBe('/tmp /tmp\n');
  expect(stderrLines(outcome)).toEqual([
    `run-docker: warning: the engine at "${engine.tcpHost}" does not share this host's files (it did not see a folder made here): no data or log folder is mapped (DATADIR and LOGDIR are /tmp); name folders on its host with --hostdatadir and --hostlogdir, or "dataDir" and "logDir" for it under "engines" in the config file`,
  ]);
  // Nothing of this host's was created for a run elsewhere.
  expect(await readdir(host.HOME)).not.toContain('work');
  expect(await itsContainers()).toEqual(before);

  // --show-config says which engine, and what the run found out, without asking it again.
  const shown = await runShim(['--show-config'], host);
  expectSuccess(shown);
  const rows = shown.stdout.split('\n');
  expect(rows.find((row) => row.startsWith('engine '))).toMatch(
    new RegExp(`^engine +${engine.tcpHost.replace(/\./g, '\\.')} +\\(env DOCKER_HOST\\)$`),
  );
  expect(rows.find((row) => row.startsWith('engine files'))).toMatch(
    /^engine files +does not share this host's files \(it did not see a folder made here\) +\(asked \d+ s ago\)$/,
  );
  const fresh = await runShim(['--show-config'], await makeHost({ DOCKER_HOST: engine.tcpHost }));
  expect(fresh.stdout).toMatch(
    /\nengine files +asked by the next run \(a network address can be any host\) +\(not asked yet\)\n/,
  );
});

test('over tcp, a dev run whose source is on this host is refused in one line, before anything runs', async () => {
  const host = await developerHost({ DOCKER_HOST: engine.tcpHost });
  const before = await itsContainers();
  const line = expectOneLineFailure(await runShim(['--local', IMAGE, 'cat', 'marker'], host));
  expect(line).toBe(
    `run-docker: the engine at "${engine.tcpHost}" does not share this host's files (it did not see a folder made here), so the source folder "${join(host.HOME, 'work', 'src', 'app')}" cannot be mapped into a dev run. Give the project's folder on the engine's host with --hostsrcdir, or run it with an engine on this host.`,
  );
  expect(await itsContainers()).toEqual(before);
});

test("over tcp, folders named on the engine's host are mapped: --hostsrcdir, and dataDir from the config's engines entry", async () => {
  const host = await developerHost({ DOCKER_HOST: engine.tcpHost });
  await mkdir(join(host.XDG_CONFIG_HOME, 'run-docker'), { recursive: true });
  await writeFile(
    join(host.XDG_CONFIG_HOME, 'run-docker', 'config.json'),
    JSON.stringify({ engines: { [engine.tcpHost]: { dataDir: ITS_DATA, logDir: 'no' } } }),
  );
  const outcome = await runShim(
    ['--local', '--hostsrcdir', ITS_SOURCE, IMAGE, 'sh', '-c', 'cat marker; echo written > "$DATADIR/out"'],
    host,
  );
  expectSuccess(outcome);
  expect({ stdout: outcome.stdout, stderr: outcome.stderr }).toEqual({ stdout: 'its-own\n', stderr: '' });
  expect((await engine.onItsHost(['cat', `${ITS_DATA}/out`])).stdout).toBe('written\n');

  const missing = await runShim(['--local', '--hostsrcdir', `/tmp/nowhere-${process.pid}`, IMAGE, 'true'], host);
  expect(expectOneLineFailure(missing)).toBe(
    `run-docker: the source folder "/tmp/nowhere-${process.pid}" (from --hostsrcdir) is not on the host of the engine at "${engine.tcpHost}". Create it there (writable by the user the container runs as), or name another with --hostsrcdir.`,
  );
});

test('over ssh, the same: the dev run is refused, --hostsrcdir maps its folder, a prod run maps nothing of this host', async () => {
  const host = await developerHost({});
  const { server, env } = await engine.startSsh(host.HOME);
  const viaSsh = { ...host, ...env };
  delete (viaSsh as Record<string, string | undefined>).SSH_AUTH_SOCK;
  const noFolders = ['--hostdatadir', 'no', '--hostlogdir', 'no'];

  expect(expectOneLineFailure(await runShim(['--local', ...noFolders, IMAGE, 'true'], viaSsh))).toContain(
    `the engine at "${server.host}" does not share this host's files (it did not see a folder made here), so the source folder`,
  );
  expect(server.log()).toMatch(/Accepted publickey/);

  const dev = await runShim(['--local', '--hostsrcdir', ITS_SOURCE, ...noFolders, IMAGE, 'cat', 'marker'], viaSsh);
  expectSuccess(dev);
  expect({ stdout: dev.stdout, stderr: dev.stderr }).toEqual({ stdout: 'its-own\n', stderr: '' });

  await rm(join(host.HOME, 'work'), { recursive: true });
  const prod = await runShim(['--local', ...noFolders, IMAGE, 'sh', '-c', 'echo "over ssh $DATADIR"'], viaSsh);
  expectSuccess(prod);
  expect({ stdout: prod.stdout, stderr: prod.stderr }).toEqual({ stdout: 'over ssh /tmp\n', stderr: '' });
}, 180_000);

test("the main engine behind the same tcp relay shares this host's files: a dev run maps the source as on its socket", async () => {
  const host = await developerHost({ DOCKER_HOST: mainRelay.host });
  const outcome = await runShim(['--local', IMAGE, 'cat', 'marker'], host);
  expectSuccess(outcome);
  expect({ stdout: outcome.stdout, stderr: outcome.stderr }).toEqual({ stdout: 'this host\n', stderr: '' });
  // The data and log folders were made here, as for any local run.
  expect(await readdir(join(host.HOME, 'work'))).toEqual(expect.arrayContaining(['data', 'log', 'src']));
});

test('asking costs no request on a socket, and one create a minute on a network address', async () => {
  const socketDir = await makeHost({});
  const socketRelay = await startUnixEngineProxy(join(socketDir.HOME, 'engine.sock'));
  try {
    const onSocket = await makeHost({ DOCKER_HOST: socketRelay.host });
    // The first call reads the image's user (cached by image ID); the shim's own requests are unversioned.
    expectSuccess(await runShim(['--local', '--dry-run', IMAGE], onSocket));
    const from = socketRelay.requests.length;
    expectSuccess(await runShim(['--local', '--dry-run', IMAGE], onSocket));
    // Only what the tags need: the image list, or with the image index the event log since its mark.
    const asked = socketRelay.requests.slice(from);
    expect(asked.length).toBeGreaterThan(0);
    expect(asked.filter((line) => !/^GET \/(?:images\/json|events\?since=[\d.]+&until=[\d.]+)$/.test(line))).toEqual(
      [],
    );
  } finally {
    await socketRelay.close();
  }
  const onTcp = await makeHost({ DOCKER_HOST: mainRelay.host });
  const creates = () => mainRelay.requests.filter((line) => line === 'POST /containers/create').length;
  expectSuccess(await runShim(['--local', '--dry-run', IMAGE], onTcp));
  await rm(join(onTcp.XDG_CACHE_HOME, 'run-docker', 'mini', 'engine-files.json'));
  const before = creates();
  expectSuccess(await runShim(['--local', '--dry-run', IMAGE], onTcp));
  expect(creates()).toBe(before + 1);
  expectSuccess(await runShim(['--local', '--dry-run', IMAGE], onTcp));
  expect(creates()).toBe(before + 1);
});

test("--dry-run names an engine on a network address and whether it shares this host's files", async () => {
  const remote = await makeHost({ DOCKER_HOST: engine.tcpHost });
  const dry = await runShim(['--local', '--dry-run', '--hostdatadir', 'no', '--hostlogdir', 'no', IMAGE], remote);
  expectSuccess(dry);
  expect(dry.stdout.split('\n')[0]).toBe(
    `# engine ${engine.tcpHost}: does not share this host's files (it did not see a folder made here)`,
  );
  const local = await makeHost({});
  const onSocket = await runShim(['--local', '--dry-run', IMAGE], local);
  expectSuccess(onSocket);
  // A socket on this host: its address says where it is, and the command stays the first line.
  expect(onSocket.stdout).toMatch(/^docker run /);
  expect((await runShim(['--show-config'], local)).stdout).toMatch(
    /\nengine files +shares this host's files \(a socket on this host\) +\(its address\)\n/,
  );
});
