/**
 * Shows a pull's progress on a stream while `pull` runs: the thin I/O edge around the pure
 * reducer and renderers. Usage: `withPullProgress({ stream: process.stderr, ...output },
 * (onEvent) => pullImage(docker, ref, { onEvent }))`.
 */
import { formatPlainPullLine } from './format-plain-pull-line';
import type { PullEvent } from './pull-image';
import { EMPTY_PULL_PROGRESS, reducePullEvent, type PullProgressState } from './reduce-pull-event';
import { renderPullProgress } from './render-pull-progress';
import type { ProgressOutput } from './select-progress-output';

/** What is used of process.stderr. */
export interface ProgressStream {
  write(text: string): unknown;
  columns?: number;
  rows?: number;
}

/** Where progress goes and how (selectProgressOutput decides the how). */
export interface ProgressTarget extends ProgressOutput {
  stream: ProgressStream;
}

/** The engine sends many events a second; ten frames a second is smooth and cheap. */
const FRAME_MS = 100;

export async function withPullProgress<T>(
  { stream, mode, color }: ProgressTarget,
  pull: (onEvent: (event: PullEvent) => void) => Promise<T>,
): Promise<T> {
  if (mode === 'off') return pull(() => {});
  let state = EMPTY_PULL_PROGRESS;
  if (mode === 'plain') {
    return pull((event) => {
      const line = formatPlainPullLine(state, event);
      state = reducePullEvent(state, event);
      if (line !== undefined) stream.write(`${line}\n`);
    });
  }
  const redraw = await createRedraw(stream);
  const draw = (shown: PullProgressState) =>
    // A pty whose size was never set reports 0 × 0: assume the usual 80 × 24.
    redraw(renderPullProgress(shown, { width: stream.columns || 80, height: stream.rows || 24, color }).join('\n'));
  let timer: NodeJS.Timeout | undefined;
  let drawnAt = 0;
  const drawNow = () => {
    timer = undefined;
    drawnAt = Date.now();
    draw(state);
  };
  try {
    return await pull((event) => {
      state = reducePullEvent(state, event);
      if (timer !== undefined) return;
      const wait = FRAME_MS - (Date.now() - drawnAt);
      if (wait <= 0) drawNow();
      else timer = setTimeout(drawNow, wait);
    });
  } finally {
    clearTimeout(timer);
    // The last frame stays on screen, also above the error line of a failed pull.
    if (state !== EMPTY_PULL_PROGRESS) draw(state);
    redraw.done();
  }
}

async function createRedraw(stream: ProgressStream) {
  // Loaded here, not at the top: a run that pulls nothing never evaluates log-update and
  // its dependencies (the shim's warm start is measured in milliseconds).
  const { createLogUpdate } = await import('log-update');
  // log-update reads `columns` and `rows` itself and prints nothing for 0 rows.
  const sized = {
    write: (text: string) => stream.write(text),
    isTTY: true,
    get columns() {
      return stream.columns || 80;
    },
    get rows() {
      return stream.rows || 24;
    },
  };
  // showCursor: hiding the cursor makes cli-cursor install signal-exit handlers for SIGINT,
  // SIGTERM and SIGHUP, which would change how run-docker and its container get signals.
  return createLogUpdate(sized as unknown as NodeJS.WritableStream, { showCursor: true });
}
