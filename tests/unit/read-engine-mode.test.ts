import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ENGINE_MODE_CACHE_FILE,
  parseDockerUserIds,
  parsePodmanUserIds,
  readEngineMode,
} from '../../payload/run/read-engine-mode';
import { createFakeEngine } from '../helpers/fake-engine';

describe('parseDockerUserIds', () => {
  it('reads rootless and userns-remap from /info SecurityOptions', () => {
    expect(
      parseDockerUserIds({ SecurityOptions: ['name=seccomp,profile=default', 'name=rootless', 'name=cgroupns'] }),
    ).toEqual({
      rootless: true,
      remapsIds: false,
    });
    expect(parseDockerUserIds({ SecurityOptions: ['name=seccomp,profile=default', 'name=userns'] })).toEqual({
      rootless: false,
      remapsIds: true,
    });
    expect(parseDockerUserIds({})).toEqual({ rootless: false, remapsIds: false });
  });
});

describe('parsePodmanUserIds', () => {
  it("reads rootless and the host uid of the engine's uid 0 from Podman's own /info", () => {
    const rootless = {
      host: {
        security: { rootless: true },
        idMappings: {
          uidmap: [
            { container_id: 0, host_id: 1501, size: 1 },
            { container_id: 1, host_id: 100000, size: 65536 },
          ],
        },
      },
    };
    expect(parsePodmanUserIds(rootless)).toEqual({ rootless: true, rootUid: 1501, remapsIds: false });
    expect(parsePodmanUserIds({ host: { security: { rootless: false }, idMappings: { uidmap: null } } })).toEqual({
      rootless: false,
      remapsIds: false,
    });
    expect(parsePodmanUserIds({ ID: 'docker' })).toBeUndefined();
  });
});

describe('readEngineMode', () => {
  let cacheDir: string;
  beforeEach(async () => {
    cacheDir = await mkdtemp(join(tmpdir(), 'engine-mode-'));
  });
  afterEach(() => rm(cacheDir, { recursive: true, force: true }));

  const options = (engine: ReturnType<typeof createFakeEngine>, now = 1_000) => ({
    engine,
    env: {},
    homeDir: '/home/u',
    endpointHost: 'tcp://far:2375',
    cacheDir,
    now: () => now,
  });

  it('asks the engine once, then answers from the cache (a warm call asks nothing)', async () => {
    const engine = createFakeEngine({ info: { SecurityOptions: ['name=rootless'] } });
    const first = await readEngineMode(options(engine));
    expect(first).toMatchObject({ rootless: true, local: false, identity: { kind: 'docker' } });
    const second = await readEngineMode(options(engine, 2_000));
    expect(second).toEqual(first);
    expect(engine.calls.filter((call) => call === 'readInfo')).toHaveLength(1);
    // Past its time an engine on another host is asked again.
    await readEngineMode(options(engine, 1_000 + 60_000));
    expect(engine.calls.filter((call) => call === 'readInfo')).toHaveLength(2);
  });

  it('asks Podman its own /info, since the Docker-compatible one does not say rootless', async () => {
    const engine = createFakeEngine({
      identity: { kind: 'podman', version: '4.3.1' },
      info: { SecurityOptions: ['name=seccomp,profile=default'] },
      podmanInfo: {
        host: { security: { rootless: true }, idMappings: { uidmap: [{ container_id: 0, host_id: 1501 }] } },
      },
    });
    expect(await readEngineMode(options(engine))).toMatchObject({ rootless: true, rootUid: 1501 });
    expect(engine.calls).toEqual(['readPodmanInfo']);
  });

  it('keys the cache by engine: another version, or another endpoint, is asked again', async () => {
    const engine = createFakeEngine({ info: { SecurityOptions: [] } });
    await readEngineMode(options(engine));
    await readEngineMode({ ...options(engine), endpointHost: 'tcp://other:2375' });
    const newer = createFakeEngine({ identity: { kind: 'docker', version: '28.2.2' }, info: { SecurityOptions: [] } });
    await readEngineMode(options(newer));
    expect(engine.calls).toEqual(['readInfo', 'readInfo']);
    expect(newer.calls).toEqual(['readInfo']);
  });

  it('never lets a broken or planted entry decide more than its own fields', async () => {
    const engine = createFakeEngine({ info: { SecurityOptions: [] } });
    await readEngineMode(options(engine));
    const file = join(cacheDir, ENGINE_MODE_CACHE_FILE);
    const [entry] = JSON.parse(await readFile(file, 'utf8')) as [{ facts: Record<string, unknown> }];
    entry.facts.local = true;
    entry.facts.host = 'unix:///elsewhere';
    await writeFile(file, JSON.stringify([entry]));
    expect(await readEngineMode(options(engine, 1_500))).toMatchObject({ local: false, host: 'tcp://far:2375' });
    await writeFile(file, '{not json');
    expect(await readEngineMode(options(engine, 1_600))).toMatchObject({ rootless: false });
    expect(engine.calls).toEqual(['readInfo', 'readInfo']);
  });
});
