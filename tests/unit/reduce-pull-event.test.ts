import { EMPTY_PULL_PROGRESS, reducePullEvent, type PullProgressState } from '../../common/reduce-pull-event';
import type { PullEvent } from '../../common/pull-image';
import { ALREADY_EXISTS_PULL, CONTAINERD_STORE_PULL, THREE_LAYER_PULL } from './pull-events';
import { defined } from '../helpers/defined';

const reduceAll = (events: PullEvent[], from: PullProgressState = EMPTY_PULL_PROGRESS) =>
  events.reduce(reducePullEvent, from);

describe('reducePullEvent', () => {
  it('keeps one entry per layer, in the order the engine first named them, with its last status', () => {
    const state = reduceAll(THREE_LAYER_PULL);
    expect(state.header).toEqual(['1: Pulling from probe/app']);
    expect(state.layers).toEqual([
      { id: '4dd86f0b447e', status: 'Pull complete' },
      { id: '8e46090afad2', status: 'Pull complete' },
      { id: '9ce349894186', status: 'Pull complete' },
    ]);
    expect(state.footer).toEqual([
      'Digest: sha256:11ba08271593cfd0bd904ea6c7791ce2bc4793551648d642260d054645633e49',
      'Status: Downloaded newer image for 127.0.0.1:35571/probe/app:1',
    ]);
  });

  it('holds the bytes of the status in progress and drops them when the status moves on', () => {
    const midway = reduceAll(THREE_LAYER_PULL.slice(0, 8));
    expect(midway.layers).toEqual([
      { id: '4dd86f0b447e', status: 'Downloading', current: 36445, total: 1064337 },
      { id: '8e46090afad2', status: 'Downloading', current: 36445, total: 3001126 },
      { id: '9ce349894186', status: 'Download complete' },
    ]);
  });

  it('records a layer already on the host as finished', () => {
    const state = reduceAll(ALREADY_EXISTS_PULL.slice(0, 3));
    expect(state.layers).toEqual([
      { id: '4dd86f0b447e', status: 'Already exists' },
      { id: 'a1b2c3d4e5f6', status: 'Pulling fs layer' },
    ]);
  });

  it('treats a missing or zero total as unknown, never as a count', () => {
    const states = CONTAINERD_STORE_PULL.map((_, n) => reduceAll(CONTAINERD_STORE_PULL.slice(0, n + 1)).layers[0]);
    expect(states[4]).toEqual({ id: 'b1b2b3b4b5b6', status: 'Extracting', current: 1234567 });
    expect(states[5]).toEqual({ id: 'b1b2b3b4b5b6', status: 'Extracting', current: 2345678 });
    expect(states[6]).toEqual({ id: 'b1b2b3b4b5b6', status: 'Extracting' });
  });

  it('ignores counts that are not counts', () => {
    const state = reduceAll([
      { status: 'Downloading', id: 'c1', progressDetail: { current: -1, total: Number.NaN } },
      { status: 'Downloading', id: 'c2', progressDetail: { current: 10, total: -5 } },
    ]);
    expect(state.layers).toEqual([
      { id: 'c1', status: 'Downloading' },
      { id: 'c2', status: 'Downloading', current: 10 },
    ]);
  });

  it('ignores events without a status and never changes the state it is given', () => {
    const before = reduceAll(THREE_LAYER_PULL.slice(0, 4));
    const copy: unknown = JSON.parse(JSON.stringify(before));
    expect(reducePullEvent(before, { id: 'x', progressDetail: {} })).toBe(before);
    reducePullEvent(before, defined(THREE_LAYER_PULL[4], 'a fifth event'));
    expect(before).toEqual(copy);
  });
});
