// The plain and silent modes of the adapter; the redrawn terminal mode is exercised
// through a real pty in tests/integration/pull-progress.test.ts.
import type { PullEvent } from '../../common/pull-image';
import { withPullProgress } from '../../common/with-pull-progress';
import { THREE_LAYER_PULL } from './pull-events';

function capture() {
  const chunks: string[] = [];
  return { chunks, stream: { write: (text: string) => chunks.push(text) } };
}

/** A pull that sends `events`, then resolves to 'pulled' (or rejects with `error`). */
const fakePull = (events: PullEvent[], error?: Error) => async (onEvent: (event: PullEvent) => void) => {
  for (const event of events) onEvent(event);
  if (error) throw error;
  return 'pulled';
};

describe('withPullProgress', () => {
  it('writes whole lines, one per layer status change, and passes the result through', async () => {
    const { chunks, stream } = capture();
    await expect(withPullProgress({ stream, mode: 'plain', color: false }, fakePull(THREE_LAYER_PULL))).resolves.toBe(
      'pulled',
    );
    expect(chunks.every((chunk) => chunk.endsWith('\n') && chunk.indexOf('\n') === chunk.length - 1)).toBe(true);
    expect(chunks).toHaveLength(20);
    expect(chunks.join('')).not.toContain('\x1b');
  });

  it('writes nothing when off', async () => {
    const { chunks, stream } = capture();
    await withPullProgress({ stream, mode: 'off', color: false }, fakePull(THREE_LAYER_PULL));
    expect(chunks).toEqual([]);
  });

  it('passes a failed pull on, after the lines so far', async () => {
    const { chunks, stream } = capture();
    const failure = new Error('registry gone');
    await expect(
      withPullProgress({ stream, mode: 'plain', color: false }, fakePull(THREE_LAYER_PULL.slice(0, 5), failure)),
    ).rejects.toBe(failure);
    expect(chunks.join('')).toBe(
      [
        '1: Pulling from probe/app',
        '4dd86f0b447e: Pulling fs layer',
        '8e46090afad2: Pulling fs layer',
        '9ce349894186: Pulling fs layer',
        '9ce349894186: Downloading',
        '',
      ].join('\n'),
    );
  });
});
