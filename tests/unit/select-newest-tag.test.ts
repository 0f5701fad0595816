import { selectNewestTag, sortTagsNewestFirst } from '../../payload/locator/select-newest-tag';
import { formatUtcStamp } from '../../common/format-utc-stamp';

describe('selectNewestTag', () => {
  it('picks the newest date-time tag', () => {
    expect(selectNewestTag(['20210502-002343', '20211231-235959', '20210101-000000'])).toBe('20211231-235959');
  });

  it('compares date-times to the second', () => {
    expect(selectNewestTag(['20210502-002343', '20210502-002344', '20210502-002342'])).toBe('20210502-002344');
  });

  it('picks the newest yy.mm.dd date', () => {
    expect(selectNewestTag(['21.01.02', '21.12.01', '20.12.31'])).toBe('21.12.01');
  });

  it('puts dates and date-times on one timeline', () => {
    expect(selectNewestTag(['21.05.03', '20210502-235959'])).toBe('21.05.03');
    expect(selectNewestTag(['21.05.02', '20210502-000001'])).toBe('20210502-000001');
    expect(selectNewestTag(['22.01.01', '20211231-235959', '21.06.01'])).toBe('22.01.01');
  });

  it('reads yy.mm.dd as a date even when it is also a valid version', () => {
    // `21.10.12` is strict semver too; as a date it is 2021-10-12, older than 2022.
    expect(selectNewestTag(['21.10.12', '20220101-000000'])).toBe('20220101-000000');
    expect(selectNewestTag(['21.10.12', '99.0.0'])).toBe('21.10.12');
  });

  it('never coerces date-times into versions', () => {
    // semver.coerce('20210502-002343') would be 20210502.0.0, far "newer" than 1000.0.0.
    expect(selectNewestTag(['20210502-002343', '20190101-000000'])).toBe('20210502-002343');
    expect(selectNewestTag(['2.0.0', '20210502-002343'])).toBe('20210502-002343');
  });

  it('prefers any date-like tag over versions and latest', () => {
    expect(selectNewestTag(['latest', '9.9.9', '20000101-000000'])).toBe('20000101-000000');
    expect(selectNewestTag(['latest', '9.9.9', '00.01.01'])).toBe('00.01.01');
  });

  it('picks the newest version by semver precedence, not by text', () => {
    expect(selectNewestTag(['1.9.0', '1.10.0', '1.2.0'])).toBe('1.10.0');
    expect(selectNewestTag(['1.0.0', '1.0.0-rc.1'])).toBe('1.0.0');
    expect(selectNewestTag(['1.0.0-rc.2', '1.0.0-rc.10', '0.9.9'])).toBe('1.0.0-rc.10');
  });

  it('accepts a leading v on versions', () => {
    expect(selectNewestTag(['v1.2.0', '1.1.9'])).toBe('v1.2.0');
    expect(selectNewestTag(['v2.0.0', 'v10.0.0'])).toBe('v10.0.0');
  });

  it('only takes strict semver', () => {
    expect(selectNewestTag(['1.2', '1', '01.2.3', 'V1.2.3', 'vv1.2.3', '1.2.3-01'])).toBeUndefined();
    expect(selectNewestTag(['1.2', '0.0.1'])).toBe('0.0.1');
  });

  it('falls back to latest, then to nothing', () => {
    expect(selectNewestTag(['main', 'latest', 'dev'])).toBe('latest');
    expect(selectNewestTag(['main', 'dev', 'feature-x'])).toBeUndefined();
    expect(selectNewestTag([])).toBeUndefined();
  });

  it('ignores branch names and signature/attestation tags', () => {
    const sig = `sha256-${'a'.repeat(64)}.sig`;
    const att = `sha256-${'b'.repeat(64)}.att`;
    expect(selectNewestTag([sig, att, 'main', 'release-2024', '1.0.0'])).toBe('1.0.0');
    expect(selectNewestTag([sig, att, 'main'])).toBeUndefined();
  });

  it('ignores tags that look almost like dates', () => {
    const nearMisses = [
      '20210502002343',
      '20210502-00234',
      '2021050-002343',
      '21.1.02',
      '2021.01.02',
      '21.01.02.1',
      'x20210502-002343',
    ];
    expect(selectNewestTag([...nearMisses, '0.1.0'])).toBe('0.1.0');
  });

  it('ignores date-like tags that name no real moment: they never win as the newest', () => {
    const impossible = [
      '20261301-250000',
      '99999999-999999',
      '20260230-120000',
      '20261231-240000',
      '26.13.01',
      '99.99.99',
    ];
    expect(selectNewestTag([...impossible, '20260101-000000'])).toBe('20260101-000000');
    expect(selectNewestTag([...impossible, '1.0.0'])).toBe('1.0.0');
    expect(sortTagsNewestFirst([...impossible, '20260101-000000'])).toEqual(['20260101-000000']);
  });

  it('ignores hostile tags that are not valid tags at all', () => {
    const hostile = [
      `${'9'.repeat(8)}-${'9'.repeat(6)}${'0'.repeat(200)}`,
      '1.0.0'.padEnd(129, '0'),
      '../../../../etc/passwd',
      'a/b',
      '99991231-235959\n',
      '99991231-235959\u0000',
      '\u001b[2J99.12.31',
      '-99991231',
      '.99.12.31',
      '',
      'v99.0.0 ',
    ];
    expect(selectNewestTag([...hostile, '20200101-000000'])).toBe('20200101-000000');
    expect(selectNewestTag(hostile)).toBeUndefined();
  });

  it('does not depend on input order for equal tags written two ways', () => {
    expect(selectNewestTag(['1.2.0', 'v1.2.0'])).toBe(selectNewestTag(['v1.2.0', '1.2.0']));
    expect(selectNewestTag(['21.05.02', '20210502-000000'])).toBe(selectNewestTag(['20210502-000000', '21.05.02']));
  });

  it('handles 10,000 tags quickly', () => {
    const tags: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      const day = new Date(Date.UTC(2000, 0, 1) + i * 3_600_000);
      const stamp = formatUtcStamp(day);
      tags.push(i % 4 === 0 ? `${i}.0.0` : i % 4 === 1 ? `sha256-${i.toString(16).padStart(64, '0')}.sig` : stamp);
    }
    // The newest is in the middle, not at either end.
    tags.splice(5_000, 0, '20991231-235959');
    const reversed = [...tags].reverse();
    const started = Date.now();
    expect(selectNewestTag(tags)).toBe('20991231-235959');
    expect(selectNewestTag(reversed)).toBe('20991231-235959');
    const sorted = sortTagsNewestFirst(tags);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(sorted[0]).toBe('20991231-235959');
    expect(sorted).toHaveLength(10_001 - 2_500);
    expect(sorted.some((t) => t.endsWith('.sig'))).toBe(false);
    expect(sorted.at(-1)).toBe('0.0.0');
  });
});

describe('sortTagsNewestFirst', () => {
  it('orders date-like tags, then versions, then latest, dropping everything else', () => {
    const tags = ['latest', 'main', '1.0.0', '21.01.02', 'v2.0.0', '20210101-120000', 'sha256-abc.sig', '1.0.0-rc.1'];
    expect(sortTagsNewestFirst(tags)).toEqual([
      '21.01.02',
      '20210101-120000',
      'v2.0.0',
      '1.0.0',
      '1.0.0-rc.1',
      'latest',
    ]);
  });

  it('starts with the tag selectNewestTag picks', () => {
    const lists = [['1.0.0', 'latest'], ['latest'], ['20.01.01', '20200101-000001', '3.0.0'], ['v1.0.0', '1.0.0']];
    for (const tags of lists) expect(sortTagsNewestFirst(tags)[0]).toBe(selectNewestTag(tags));
  });

  it('drops duplicates and returns an empty list when nothing is usable', () => {
    expect(sortTagsNewestFirst(['1.0.0', '1.0.0', 'latest', 'latest'])).toEqual(['1.0.0', 'latest']);
    expect(sortTagsNewestFirst(['main', 'a/b'])).toEqual([]);
  });
});
