import { shouldForwardSignal } from '../../payload/run/run-docker-cli';
import { isTtyAllocated } from '../../payload/run/render-docker-run-args';

describe('shouldForwardSignal', () => {
  it('passes every signal on when no terminal sends signals to docker itself', () => {
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      // A pipe (CI, cron) and a terminal in raw mode (-t): only `kill` reaches run-docker.
      expect(shouldForwardSignal(signal, { stdinIsTerminal: false, ttyAllocated: false })).toBe(true);
      expect(shouldForwardSignal(signal, { stdinIsTerminal: true, ttyAllocated: true })).toBe(true);
    }
  });

  it('keeps back only the SIGINT a cooked terminal already sent to docker (no double Ctrl-C)', () => {
    expect(shouldForwardSignal('SIGINT', { stdinIsTerminal: true, ttyAllocated: false })).toBe(false);
    expect(shouldForwardSignal('SIGTERM', { stdinIsTerminal: true, ttyAllocated: false })).toBe(true);
  });
});

describe('isTtyAllocated', () => {
  it("follows run-docker's choice unless the user's --tty says otherwise, the last one winning", () => {
    expect(isTtyAllocated({ tty: true, dockerArgs: [] })).toBe(true);
    expect(isTtyAllocated({ tty: false, dockerArgs: ['--tty'] })).toBe(true);
    expect(isTtyAllocated({ tty: true, dockerArgs: ['--tty=false'] })).toBe(false);
    expect(isTtyAllocated({ tty: true, dockerArgs: ['--tty=false', '--env', 'A=1', '--tty=1'] })).toBe(true);
    // The value of --env, not the flag.
    expect(isTtyAllocated({ tty: false, dockerArgs: ['--env', '--tty'] })).toBe(false);
  });
});
