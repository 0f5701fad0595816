import type { PullEvent } from '../../common/pull-image';
import { EMPTY_PULL_PROGRESS, reducePullEvent } from '../../common/reduce-pull-event';
import { formatBar, formatBytes, renderPullProgress, type ProgressView } from '../../common/render-pull-progress';
import { ALREADY_EXISTS_PULL, CONTAINERD_STORE_PULL, layerId, manyLayerPull, THREE_LAYER_PULL } from './pull-events';

const WIDE: ProgressView = { width: 120, height: 40, color: false };
const frameAfter = (events: PullEvent[], view: ProgressView = WIDE) =>
  renderPullProgress(events.reduce(reducePullEvent, EMPTY_PULL_PROGRESS), view);
// eslint-disable-next-line no-control-regex -- the escape character is what it looks for
const ANY_ESCAPE = /\x1b/;

describe('formatBytes', () => {
  it.each([
    [0, '0B'],
    [999, '999B'],
    [1000, '1kB'],
    [36445, '36.45kB'],
    [98304, '98.3kB'],
    [1064337, '1.064MB'],
    [12_300_000, '12.3MB'],
    [40_149_999, '40.15MB'],
    [1_500_000_000, '1.5GB'],
  ])('%d bytes read as docker shows them: %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
});

describe('formatBar', () => {
  it.each([
    [0, '[>         ]'],
    [0.35, '[===>      ]'],
    [0.999, '[=========>]'],
    [1, '[==========]'],
    [7, '[==========]'],
    [-1, '[>         ]'],
  ])('ratio %d', (ratio, bar) => {
    expect(formatBar(ratio, 10)).toBe(bar);
  });
});

describe('renderPullProgress', () => {
  it('draws a docker-style bar with bytes for each layer moving bytes', () => {
    expect(frameAfter(THREE_LAYER_PULL.slice(0, 8))).toEqual([
      '1: Pulling from probe/app',
      `4dd86f0b447e: Downloading [=>${' '.repeat(48)}]  36.45kB/1.064MB`,
      `8e46090afad2: Downloading [>${' '.repeat(49)}]  36.45kB/3.001MB`,
      '9ce349894186: Download complete',
    ]);
  });

  it('lines up Extracting bars with Downloading bars', () => {
    const frame = frameAfter(THREE_LAYER_PULL.slice(0, 15));
    const extracting = frame.find((line) => line.startsWith('4dd86f0b447e'))!;
    expect(extracting).toMatch(/^4dd86f0b447e: Extracting {2}\[====>/);
    expect(extracting.indexOf('[')).toBe('4dd86f0b447e: Downloading '.length);
  });

  it('ends a finished pull with every layer complete and the digest and status lines', () => {
    expect(frameAfter(THREE_LAYER_PULL)).toEqual([
      '1: Pulling from probe/app',
      '4dd86f0b447e: Pull complete',
      '8e46090afad2: Pull complete',
      '9ce349894186: Pull complete',
      'Digest: sha256:11ba08271593cfd0bd904ea6c7791ce2bc4793551648d642260d054645633e49',
      'Status: Downloaded newer image for 127.0.0.1:35571/probe/app:1',
    ]);
  });

  it('shows layers already on the host', () => {
    expect(frameAfter(ALREADY_EXISTS_PULL.slice(0, 4))).toEqual([
      '2.0.0: Pulling from team/app',
      '4dd86f0b447e: Already exists',
      `a1b2c3d4e5f6: Downloading [============>${' '.repeat(37)}]     512B/2.048kB`,
    ]);
  });

  it('shows bytes without a bar, NaN or a percentage when the total is missing or zero', () => {
    const lines = CONTAINERD_STORE_PULL.slice(4, 7).map((_, n) => frameAfter(CONTAINERD_STORE_PULL.slice(0, 5 + n))[1]);
    expect(lines).toEqual([
      'b1b2b3b4b5b6: Extracting 1.235MB',
      'b1b2b3b4b5b6: Extracting 2.346MB',
      'b1b2b3b4b5b6: Extracting',
    ]);
  });

  it('colours finished layers only when colour is allowed, and never anything else', () => {
    const coloured = frameAfter(ALREADY_EXISTS_PULL.slice(0, 4), { ...WIDE, color: true });
    expect(coloured[1]).toBe('4dd86f0b447e: \x1b[32mAlready exists\x1b[39m');
    expect(coloured[2]).not.toMatch(ANY_ESCAPE);
    expect(frameAfter(ALREADY_EXISTS_PULL, { ...WIDE, color: false }).join('\n')).not.toMatch(ANY_ESCAPE);
  });

  it('shortens the bar on a narrow terminal and drops it when it would be too short, never wider than the terminal', () => {
    const events = THREE_LAYER_PULL.slice(0, 8);
    const at80 = frameAfter(events, { ...WIDE, width: 80 });
    expect(at80[1]).toMatch(/^4dd86f0b447e: Downloading \[=*>? *\] {2}36\.45kB\/1\.064MB$/);
    const at50 = frameAfter(events, { ...WIDE, width: 50 });
    expect(at50[1]).toBe('4dd86f0b447e: Downloading  36.45kB/1.064MB');
    for (const width of [30, 50, 80, 120]) {
      for (const line of frameAfter(events, { ...WIDE, width })) expect(line.length).toBeLessThan(width);
    }
  });

  it('keeps a long pull within the terminal: moving layers shown, the rest counted in one line', () => {
    const events = manyLayerPull(80, 40);
    // Layer 40 is next in line: start it, so three layers are moving.
    events.push({ status: 'Downloading', progressDetail: { current: 5, total: 10 }, id: layerId(40) });
    events.push({ status: 'Downloading', progressDetail: { current: 5, total: 10 }, id: layerId(41) });
    const frame = frameAfter(events, { ...WIDE, height: 12 });
    expect(frame).toHaveLength(11);
    expect(frame[0]).toBe('latest: Pulling from team/big');
    expect(frame.filter((line) => line.includes('Downloading'))).toHaveLength(2);
    expect(frame[1]).toMatch(new RegExp(`^${layerId(40)}: Downloading`));
    // Shown: 40 and 41 moving, 42–48 waiting; hidden: 49–79 waiting, 0–39 complete.
    expect(frame.slice(3, 10).map((line) => line.slice(0, 12))).toEqual([42, 43, 44, 45, 46, 47, 48].map(layerId));
    expect(frame[10]).toBe('… and 71 more layers (31 waiting, 40 complete)');
  });

  it('lists every layer when they fit', () => {
    const frame = frameAfter(manyLayerPull(30), { ...WIDE, height: 40 });
    expect(frame).toHaveLength(31);
    expect(frame.slice(1).every((line) => line.endsWith(': Pull complete'))).toBe(true);
  });

  it('keeps the digest and status lines of a finished long pull on screen', () => {
    const events = [
      ...manyLayerPull(50),
      { status: 'Digest: sha256:abc' },
      { status: 'Status: Downloaded newer image for team/big:latest' },
    ];
    const frame = frameAfter(events, { ...WIDE, height: 10 });
    expect(frame).toEqual([
      'latest: Pulling from team/big',
      ...Array.from({ length: 5 }, (_, n) => `${layerId(n)}: Pull complete`),
      '… and 45 more layers (45 complete)',
      'Digest: sha256:abc',
      'Status: Downloaded newer image for team/big:latest',
    ]);
  });
});
