import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { miniVersionRecordPath, readHighestMiniVersion, recordMiniVersion } from '../../shim/mini-version-record';

describe('miniVersionRecordPath', () => {
  it('uses an absolute XDG_STATE_HOME, and ignores a relative one as the XDG spec says', () => {
    expect(miniVersionRecordPath({ XDG_STATE_HOME: '/state' }, '/home/u')).toBe('/state/run-docker/mini-versions.json');
    expect(miniVersionRecordPath({ XDG_STATE_HOME: 'state' }, '/home/u')).toBe(
      '/home/u/.local/state/run-docker/mini-versions.json',
    );
    expect(miniVersionRecordPath({}, '/home/u')).toBe('/home/u/.local/state/run-docker/mini-versions.json');
  });
});

describe('the record of mini versions run', () => {
  let dir: string;
  let file: string;
  const warnings: string[] = [];
  const log = { warn: (line: string) => warnings.push(line), debug: () => undefined };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'run-docker-record-'));
    file = join(dir, 'state', 'run-docker', 'mini-versions.json');
    warnings.length = 0;
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('is empty when missing, and only ever goes up, per repository', async () => {
    expect(await readHighestMiniVersion(file, 'r/mini', log)).toBeUndefined();
    await recordMiniVersion(file, 'r/mini', '20261201-000000', log);
    await recordMiniVersion(file, 'r/mini', '20261130-000000', log);
    await recordMiniVersion(file, 'other/mini', '1.0.0', log);
    expect(await readHighestMiniVersion(file, 'r/mini', log)).toBe('20261201-000000');
    expect(await readHighestMiniVersion(file, 'other/mini', log)).toBe('1.0.0');
    expect(((await stat(file)).mode & 0o777).toString(8)).toBe('600');
    expect(((await stat(join(file, '..'))).mode & 0o777).toString(8)).toBe('700');
    expect(warnings).toEqual([]);
  });

  it.each([
    ['not JSON', '{"minis": {'],
    ['a version that is not a usable tag', '{"minis": {"r/mini": "../x"}}'],
    // Raised by an impossible tag before such tags stopped counting as dates: no freeze now.
    ['a date-time that names no real moment', '{"minis": {"r/mini": "20261301-250000"}}'],
    ['no minis', '[]'],
  ])('treats a record with %s as empty, with one warning, and writes a good one next time', async (_name, content) => {
    await recordMiniVersion(file, 'r/mini', '20261201-000000', log);
    await writeFile(file, content);
    expect(await readHighestMiniVersion(file, 'r/mini', log)).toBeUndefined();
    expect(warnings).toEqual([expect.stringMatching(/is damaged; older minis are not refused this time/)]);
    await recordMiniVersion(file, 'r/mini', '20261101-000000', log);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ minis: { 'r/mini': '20261101-000000' } });
  });

  it('costs one warning, not the run, when it cannot be written', async () => {
    await writeFile(join(dir, 'state'), 'a file where the folder must go');
    await recordMiniVersion(file, 'r/mini', '20261201-000000', log);
    expect(warnings).toEqual([
      expect.stringMatching(/^cannot record that this host ran mini 20261201-000000 in ".*" \((ENOTDIR|EEXIST)\)/),
    ]);
  });
});
