/**
 * What a Ctrl-C (or a SIGTERM/SIGHUP) means while run-docker works for itself: undo what
 * is half done, then exit 128+n — and nothing starts after it. One place owns it, because a
 * clean-up that ran while the main flow went on (the signal arrived just as an extraction
 * finished) once let a `docker run` start after the user said stop, then left it orphaned.
 *
 * Process-wide by nature (signals are), so module state: each bundle (shim, mini) has its
 * own copy, and the copy that starts `docker run` is the one that guards it.
 */
import { constants } from 'node:os';

export const INTERRUPTS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

type Cleanup = () => Promise<unknown>;

let received: NodeJS.Signals | undefined;
const cleanups = new Set<Cleanup>();

/**
 * Runs `cleanup` if a signal arrives before the returned release is called; the process
 * then exits 128+n once every registered clean-up has settled. Without any registered
 * clean-up Node's own default applies (exit at once), which is right when nothing is half done.
 */
export function cleanUpOnInterrupt(cleanup: Cleanup): () => void {
  if (cleanups.size === 0) for (const signal of INTERRUPTS) process.on(signal, onInterrupt);
  cleanups.add(cleanup);
  return () => {
    cleanups.delete(cleanup);
    if (cleanups.size === 0 && received === undefined)
      for (const signal of INTERRUPTS) process.removeListener(signal, onInterrupt);
  };
}

/** The signal that stopped this run, if one did: callers must start nothing new then. */
export function interruptedBy(): NodeJS.Signals | undefined {
  return received;
}

/** Never settles: where the flow would go on after a signal, it waits for the exit instead. */
export function waitForExit(): Promise<never> {
  return new Promise<never>(() => undefined);
}

/** A hung engine must not keep a stopped run alive: clean-ups get this long. */
const CLEANUP_LIMIT_MS = 10_000;

function onInterrupt(signal: NodeJS.Signals): void {
  const exit = () => process.exit(128 + constants.signals[signal]);
  // A second signal while cleaning up: the user insists, so stop now.
  if (received !== undefined) exit();
  received = signal;
  const limit = setTimeout(exit, CLEANUP_LIMIT_MS);
  void Promise.allSettled([...cleanups].map((cleanup) => cleanup())).finally(() => {
    clearTimeout(limit);
    exit();
  });
}
