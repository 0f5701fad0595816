import {
  engineTimeOf,
  formatEngineTime,
  formatIndexFile,
  indexFromList,
  judgeEventsSinceMark,
  MAX_INDEXED_REPOSITORIES,
  parseIndexFile,
  repositoryOfName,
  selectRepositoryImages,
  type EventMark,
} from '../../common/engine/image-index';

/** An event line as dockerd writes it (GET /events), with a nanosecond time beyond 2^53. */
function eventLine(timeNano: string, type: string, action: string, actor = 'sha256:aa'): string {
  return JSON.stringify({
    status: action,
    id: actor,
    Type: type,
    Action: action,
    Actor: { ID: actor, Attributes: { name: 'x' } },
    scope: 'local',
    time: Number(timeNano.slice(0, -9)),
    timeNano: '__T__',
  }).replace('"__T__"', timeNano);
}

const MARK_LINE = eventLine('1796647718655268640', 'container', 'destroy', 'c1');
const MARK: EventMark = { timeNano: '1796647718655268640', line: MARK_LINE };

describe('judgeEventsSinceMark', () => {
  it('vouches for the index when the mark comes back first and nothing after it touched an image', () => {
    const later = eventLine('1796647718655268999', 'container', 'start', 'c2');
    const text = [MARK_LINE, eventLine('1796647718655268900', 'network', 'connect'), later, ''].join('\n');
    expect(judgeEventsSinceMark(text, MARK)).toEqual({
      kind: 'unchanged',
      newest: { timeNano: '1796647718655268999', line: later },
      eventsAfterMark: 2,
    });
    expect(judgeEventsSinceMark(`${MARK_LINE}\n`, MARK)).toEqual({
      kind: 'unchanged',
      newest: MARK,
      eventsAfterMark: 0,
    });
    // Saving or pushing an image leaves the images as they were.
    const saved = [
      MARK_LINE,
      eventLine('1796647718655269000', 'image', 'save'),
      eventLine('1796647718655269001', 'image', 'push'),
    ];
    expect(judgeEventsSinceMark(saved.join('\n'), MARK)).toMatchObject({ kind: 'unchanged', eventsAfterMark: 2 });
  });

  it('reads the time from the text: JSON numbers this large lose their last digits', () => {
    expect(Number('1796647718655268641')).toBe(Number('1796647718655268640'));
    const later = eventLine('1796647718655268641', 'container', 'start');
    const verdict = judgeEventsSinceMark(`${MARK_LINE}\n${later}`, MARK);
    expect(verdict.newest?.timeNano).toBe('1796647718655268641');
  });

  it.each([
    ['image', 'tag'],
    ['image', 'pull'],
    ['image', 'load'],
    ['image', 'delete'],
    ['container', 'commit'],
    ['daemon', 'reload'],
    ['builder', 'prune'], // a type this code does not know counts as a change
  ])('says "changed" after %s %s', (type, action) => {
    const text = [MARK_LINE, eventLine('1796647718655269000', type, action)].join('\n');
    expect(judgeEventsSinceMark(text, MARK)).toMatchObject({ kind: 'changed', why: `${type} ${action}` });
  });

  it('says "lost" when the engine no longer has the mark: its buffer moved on, or it restarted', () => {
    const others = [
      eventLine('1796647718655269000', 'container', 'create'),
      eventLine('1796647718655269001', 'container', 'start'),
    ];
    expect(judgeEventsSinceMark(others.join('\n'), MARK)).toMatchObject({ kind: 'lost' });
    expect(judgeEventsSinceMark('', MARK)).toMatchObject({ kind: 'lost', newest: undefined });
  });

  it("takes events of the mark's own nanosecond before it, but nothing older", () => {
    const sameTime = eventLine(MARK.timeNano, 'container', 'die', 'c0');
    expect(judgeEventsSinceMark(`${sameTime}\n${MARK_LINE}`, MARK)).toMatchObject({ kind: 'unchanged' });
    const older = eventLine('1796647718655268000', 'container', 'die', 'c0');
    expect(judgeEventsSinceMark(`${older}\n${MARK_LINE}`, MARK)).toMatchObject({ kind: 'lost' });
  });

  it('has no verdict but "lost" without a mark, and names the newest event as the next mark', () => {
    expect(judgeEventsSinceMark(MARK_LINE, undefined)).toEqual({ kind: 'lost', newest: MARK, why: 'no mark yet' });
  });

  it('does not trust an answer it cannot read', () => {
    expect(judgeEventsSinceMark(`${MARK_LINE}\nnot json`, MARK)).toMatchObject({ kind: 'lost', newest: undefined });
    expect(judgeEventsSinceMark(`${MARK_LINE}\n{"Type":"container"}`, MARK)).toMatchObject({ kind: 'lost' });
  });
});

describe('engine times', () => {
  it('writes seconds, a dot and nine digits of nanoseconds', () => {
    expect(formatEngineTime('1796647718655268640')).toBe('1796647718.655268640');
    expect(formatEngineTime('5')).toBe('0.000000005');
    expect(engineTimeOf(1796647718655)).toBe('1796647718.655000000');
  });
});

describe('repositoryOfName', () => {
  it('finds the repository of a tag or digest reference, a registry port included', () => {
    expect(repositoryOfName('127.0.0.1:5000/team/app:1.0.0')).toBe('127.0.0.1:5000/team/app');
    expect(repositoryOfName('127.0.0.1:5000/team/app@sha256:ab')).toBe('127.0.0.1:5000/team/app');
    expect(repositoryOfName('app:latest')).toBe('app');
    expect(repositoryOfName('127.0.0.1:5000/team/app')).toBeUndefined();
    expect(repositoryOfName('sha256')).toBeUndefined();
  });
});

describe('the index from a list', () => {
  const images = [
    { Id: 'sha256:1', RepoTags: ['r/app:1.0.0', 'other:1'], RepoDigests: [], Labels: { a: 'b' }, Size: 5 },
    { Id: 'sha256:2', RepoTags: ['r/app-extra:1.0.0'], RepoDigests: ['r/app@sha256:dd'], Labels: null, Size: 7 },
    { Id: 'sha256:3', RepoTags: ['r/app-extra:2'], RepoDigests: [] },
    { Id: 'sha256:4', RepoTags: ['<none>:<none>'], RepoDigests: ['<none>@<none>'] },
  ];

  it('keeps exactly the images that carry a name of the repository', () => {
    expect(selectRepositoryImages(images, 'r/app').map((image) => image.Id)).toEqual(['sha256:1', 'sha256:2']);
    expect(selectRepositoryImages(images, 'r/app')[1]).toEqual({
      Id: 'sha256:2',
      RepoTags: ['r/app-extra:1.0.0'],
      RepoDigests: ['r/app@sha256:dd'],
      Labels: {},
      Size: 7,
    });
  });

  it('holds the repositories asked for now first, then the earlier ones, up to its bound', () => {
    const earlier = Array.from({ length: MAX_INDEXED_REPOSITORIES }, (_, i) => `old/${i}`);
    const index = indexFromList(images, ['r/app'], earlier, MARK);
    expect(Object.keys(index.repositories)).toHaveLength(MAX_INDEXED_REPOSITORIES);
    expect(Object.keys(index.repositories)[0]).toBe('r/app');
    expect(index.mark).toBe(MARK);
  });

  it('round-trips through its file, one index per engine, the last written first', () => {
    const index = indexFromList(images, ['r/app'], [], MARK);
    const text = formatIndexFile({ '/a.sock': index, '/b.sock': index }, '/b.sock', { ...index, mark: undefined });
    const parsed = parseIndexFile(text);
    expect(Object.keys(parsed ?? {})).toEqual(['/b.sock', '/a.sock']);
    expect(parsed?.['/a.sock']).toEqual(index);
    expect(parsed?.['/b.sock']?.mark).toBeUndefined();
    expect(Object.keys(parseIndexFile(formatIndexFile(parsed ?? {}, '/b.sock', undefined)) ?? {})).toEqual(['/a.sock']);
  });

  it.each([
    ['not JSON', 'x'],
    ['another version', JSON.stringify({ version: 2, engines: {} })],
    [
      'a bad mark',
      JSON.stringify({ version: 1, engines: { s: { mark: { timeNano: 1, line: '' }, repositories: {} } } }),
    ],
    [
      'an image that is not of its repository',
      JSON.stringify({
        version: 1,
        engines: { s: { repositories: { 'r/app': [{ Id: 'x', RepoTags: ['r/other:1'] }] } } },
      }),
    ],
  ])('calls a file with %s damaged', (_, text) => {
    expect(parseIndexFile(text)).toBeUndefined();
  });
});
