/**
 * The standard streams without creating them. Node creates process.stdin, .stdout and
 * .stderr on first access, with a tty, net or fs stream each and the modules behind them:
 * ~16 M instructions (~7 ms here) of a call that only asks whether they are terminals and
 * prints one line (docs/performance.md). These ask the file descriptor instead, and leave
 * the streams to what really streams (pull progress, failures).
 */
import { writeSync } from 'node:fs';
import { isatty } from 'node:tty';

/** Whether fd 0, 1 or 2 is a terminal: what process.stdin/.stdout/.stderr.isTTY would say. */
export function isTerminal(fd: 0 | 1 | 2): boolean {
  return isatty(fd);
}

/** `output` with `stream` process.stderr, created when first read (not by a spread: it would read it). */
export function onStderr<T extends object>(output: T): T & { readonly stream: NodeJS.WriteStream } {
  return Object.defineProperty({ ...output }, 'stream', { get: () => process.stderr, enumerable: true }) as T & {
    readonly stream: NodeJS.WriteStream;
  };
}

/**
 * Writes `text` to standard output, whole, before returning: what process.stdout.write does
 * for a file, a terminal or (on Linux) a pipe. A reader that went away (EPIPE) ends the
 * output silently, as for `cat`; an output that cannot take it now (EAGAIN, a non-blocking
 * descriptor someone else set) gets the rest through process.stdout.
 */
export function writeStdout(text: string): void {
  const bytes = Buffer.from(text);
  let written = 0;
  try {
    while (written < bytes.length) written += writeSync(1, bytes, written, bytes.length - written);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EPIPE') return;
    if (code !== 'EAGAIN') throw error;
    process.stdout.write(bytes.subarray(written));
  }
}
