import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generatedHostIdPath, readHostId } from '../../shim/read-host-id';
import { readReleaseState, releaseStatePath, writeReleaseState } from '../../shim/release-state';
import { makeSigningKey } from '../helpers/payload-images';

let dir: string;
const warnings: string[] = [];
const log = { warn: (line: string) => warnings.push(line), debug: () => undefined };

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'run-docker-release-state-'));
  warnings.length = 0;
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('the release state file', () => {
  const key = makeSigningKey().trusted;
  const file = () => join(dir, 'state', 'run-docker', 'releases.json');

  it('sits beside the rollback record', () => {
    expect(releaseStatePath({ XDG_STATE_HOME: '/state' }, '/home/u')).toBe('/state/run-docker/releases.json');
    expect(releaseStatePath({}, '/home/u')).toBe('/home/u/.local/state/run-docker/releases.json');
  });

  it('is empty when missing; keeps added keys, retirements and halts per repository, 0600 in a 0700 folder', async () => {
    expect(await readReleaseState(file(), 'r/mini', log)).toEqual({ keys: { added: [], retired: [] }, halted: [] });
    await writeReleaseState(
      file(),
      'r/mini',
      { keys: { added: [key], retired: ['0011223344556677'] }, halted: ['20261201-000000'] },
      log,
    );
    await writeReleaseState(file(), 'other/mini', { keys: { added: [], retired: [] }, halted: ['1.0.0'] }, log);
    expect(await readReleaseState(file(), 'r/mini', log)).toEqual({
      keys: { added: [key], retired: ['0011223344556677'] },
      halted: ['20261201-000000'],
    });
    expect((await readReleaseState(file(), 'other/mini', log)).halted).toEqual(['1.0.0']);
    expect(((await stat(file())).mode & 0o777).toString(8)).toBe('600');
    expect(((await stat(join(file(), '..'))).mode & 0o777).toString(8)).toBe('700');
    expect(warnings).toEqual([]);
  });

  it('never drops a retirement or a halt another call wrote first, and never keeps a retired key as added', async () => {
    await writeReleaseState(
      file(),
      'r/mini',
      { keys: { added: [], retired: [key.keyId] }, halted: ['20261201-000000'] },
      log,
    );
    // A call that read the file before those were written, and learnt something else.
    await writeReleaseState(
      file(),
      'r/mini',
      { keys: { added: [key], retired: [] }, halted: ['20261202-000000'] },
      log,
    );
    expect(await readReleaseState(file(), 'r/mini', log)).toEqual({
      keys: { added: [], retired: [key.keyId] },
      halted: ['20261202-000000', '20261201-000000'],
    });
  });

  it.each([
    ['not JSON', '{"repositories": {'],
    [
      'a halted version that is not a tag',
      '{"repositories": {"r/mini": {"addedKeys": [], "retiredKeys": [], "halted": ["../x"]}}}',
    ],
    ['no repositories', '[]'],
  ])('treats a file with %s as empty, with one warning', async (_name, content) => {
    await mkdir(join(file(), '..'), { recursive: true });
    await writeFile(file(), content, { mode: 0o600 });
    expect(await readReleaseState(file(), 'r/mini', log)).toEqual({ keys: { added: [], retired: [] }, halted: [] });
    expect(warnings).toEqual([
      expect.stringMatching(/releases\.json", is damaged; only the pinned tiny's keys are trusted this time/),
    ]);
  });

  it('is not used when others may write it', async () => {
    await writeReleaseState(file(), 'r/mini', { keys: { added: [key], retired: [] }, halted: [] }, log);
    await chmod(file(), 0o666);
    expect((await readReleaseState(file(), 'r/mini', log)).keys.added).toEqual([]);
    expect(warnings).toEqual([
      expect.stringMatching(/cannot use this host's record of key rotations and halts, .*can be changed by every user/),
    ]);
  });
});

describe('readHostId', () => {
  const generated = () => generatedHostIdPath(join(dir, 'state'));

  it('takes a configured identity first, then machine-id(5), then one it made and kept', async () => {
    const machineId = join(dir, 'machine-id');
    await writeFile(machineId, '0123456789abcdef0123456789abcdef\n');
    expect(await readHostId({ id: 'web-042', source: 'env RUN_DOCKER_HOST_ID' }, generated(), log, machineId)).toEqual({
      id: 'web-042',
      source: 'env RUN_DOCKER_HOST_ID',
    });
    expect(await readHostId(undefined, generated(), log, machineId)).toEqual({
      id: '0123456789abcdef0123456789abcdef',
      source: machineId,
    });
    // First boot's "uninitialized", an empty file or none: one is made, kept (0600) and used again.
    await writeFile(machineId, 'uninitialized\n');
    const made = await readHostId(undefined, generated(), log, machineId);
    expect(made.id).toMatch(/^[0-9a-f]{32}$/);
    expect(made.source).toBe(`generated ${generated()}`);
    expect(await readFile(generated(), 'utf8')).toBe(`${made.id}\n`);
    expect(((await stat(generated())).mode & 0o777).toString(8)).toBe('600');
    expect(await readHostId(undefined, generated(), log, join(dir, 'absent'))).toEqual(made);
    expect(warnings).toEqual([]);
  });

  it('does not take an identity file others may write: whoever could write it could choose the bucket', async () => {
    const planted = '0123456789abcdef0123456789abcdef';
    await mkdir(join(dir, 'state'), { recursive: true });
    await writeFile(generated(), `${planted}\n`);
    await chmod(generated(), 0o666);
    const machineId = join(dir, 'machine-id');
    await writeFile(machineId, `${planted}\n`);
    await chmod(machineId, 0o666);
    const used = await readHostId(undefined, generated(), log, machineId);
    expect(used.id).toMatch(/^[0-9a-f]{32}$/);
    expect(used.id).not.toBe(planted);
    expect(warnings).toEqual([expect.stringMatching(/^cannot keep this host's identity for staged rollouts in /)]);
  });

  it('with no state folder to keep one in: one for this call only, and one warning that says so', async () => {
    const made = await readHostId(undefined, undefined, log, join(dir, 'absent'));
    expect(made.id).toMatch(/^[0-9a-f]{32}$/);
    expect(made.source).toBe('made for this call only');
    expect(warnings).toEqual([
      expect.stringMatching(/^cannot keep this host's identity for staged rollouts: no state folder can be used/),
    ]);
    expect(await readHostId(undefined, undefined, log, join(dir, 'absent'), false)).toBeUndefined();
  });

  it('makes none when asked not to (--show-config writes nothing)', async () => {
    expect(await readHostId(undefined, generated(), log, join(dir, 'absent'), false)).toBeUndefined();
    await expect(readFile(generated())).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('makes one identity when several calls make it at once', async () => {
    const made = await Promise.all(
      Array.from({ length: 8 }, () => readHostId(undefined, generated(), log, join(dir, 'absent'))),
    );
    const kept = (await readFile(generated(), 'utf8')).trim();
    expect(new Set(made.map((host) => host.id))).toEqual(new Set([kept]));
  });
});
