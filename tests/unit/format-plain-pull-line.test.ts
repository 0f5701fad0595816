import { formatPlainPullLine } from '../../common/format-plain-pull-line';
import type { PullEvent } from '../../common/pull-image';
import { EMPTY_PULL_PROGRESS, reducePullEvent } from '../../common/reduce-pull-event';
import { ALREADY_EXISTS_PULL, CONTAINERD_STORE_PULL, manyLayerPull, THREE_LAYER_PULL } from './pull-events';

/** What a log shows for a whole pull. */
function plainLines(events: PullEvent[]): string[] {
  const lines: string[] = [];
  let state = EMPTY_PULL_PROGRESS;
  for (const event of events) {
    const line = formatPlainPullLine(state, event);
    if (line !== undefined) lines.push(line);
    state = reducePullEvent(state, event);
  }
  return lines;
}

describe('formatPlainPullLine', () => {
  it('prints a line per layer per status change and the whole-pull lines, never a progress tick', () => {
    expect(plainLines(THREE_LAYER_PULL)).toEqual([
      '1: Pulling from probe/app',
      '4dd86f0b447e: Pulling fs layer',
      '8e46090afad2: Pulling fs layer',
      '9ce349894186: Pulling fs layer',
      '9ce349894186: Downloading',
      '9ce349894186: Download complete',
      '8e46090afad2: Downloading',
      '4dd86f0b447e: Downloading',
      '4dd86f0b447e: Verifying Checksum',
      '4dd86f0b447e: Download complete',
      '4dd86f0b447e: Extracting',
      '8e46090afad2: Verifying Checksum',
      '8e46090afad2: Download complete',
      '4dd86f0b447e: Pull complete',
      '8e46090afad2: Extracting',
      '8e46090afad2: Pull complete',
      '9ce349894186: Extracting',
      '9ce349894186: Pull complete',
      'Digest: sha256:11ba08271593cfd0bd904ea6c7791ce2bc4793551648d642260d054645633e49',
      'Status: Downloaded newer image for 127.0.0.1:35571/probe/app:1',
    ]);
  });

  it('says which layers were already on the host', () => {
    expect(plainLines(ALREADY_EXISTS_PULL)).toContain('4dd86f0b447e: Already exists');
  });

  it('prints one Extracting line for the containerd store however its totals look', () => {
    expect(plainLines(CONTAINERD_STORE_PULL).filter((line) => line.includes('Extracting'))).toEqual([
      'b1b2b3b4b5b6: Extracting',
    ]);
  });

  it('stays proportional to the layers, not to the ticks, in a long pull', () => {
    const events = manyLayerPull(60);
    const lines = plainLines(events);
    // Per layer: Pulling fs layer, Waiting (all but 3), Downloading, Download complete, Extracting, Pull complete.
    expect(lines).toHaveLength(1 + 60 * 5 + 57);
    expect(events.length).toBeGreaterThan(lines.length * 2);
    expect(lines.every((line) => !/\d+(\.\d+)?[kMG]?B/.test(line))).toBe(true);
  });
});
