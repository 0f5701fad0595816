import { execFileSync } from 'node:child_process';
import { hasUnprintable, makePrintable } from '../../common/make-printable';
import { formatUserFacingError, RunDockerError } from '../../common/run-docker-error';
import { formatShellCommand } from '../../common/format-shell-command';
import { createLogger } from '../../shim/create-logger';
import { formatPlainPullLine } from '../../common/format-plain-pull-line';
import { EMPTY_PULL_PROGRESS, reducePullEvent } from '../../common/reduce-pull-event';
import { defined } from '../helpers/defined';

// What a hostile image name, tag or registry message might carry: clear screen, set the
// window title, a C1 CSI, and a right-to-left override.
const HOSTILE = 'app\x1b[2J\x1b]0;owned\x07\u009b31m\u202egnp.exe\r\n\tend';

describe('makePrintable', () => {
  it('shows every control character as an escape and keeps the rest', () => {
    expect(makePrintable(HOSTILE)).toBe('app\\x1b[2J\\x1b]0;owned\\x07\\u009b31m\\u202egnp.exe\\x0d\\x0a\\x09end');
    expect(hasUnprintable(makePrintable(HOSTILE))).toBe(false);
    expect(makePrintable('café 20261130-101500 ✓ 127.0.0.1:5000/team/app')).toBe(
      'café 20261130-101500 ✓ 127.0.0.1:5000/team/app',
    );
  });

  it('shows the characters that print as nothing (byte-order mark, zero width space, word joiner) as escapes', () => {
    expect(makePrintable('\ufeff{"tiny": "a\u200bb\u2060"}')).toBe('\\ufeff{"tiny": "a\\u200bb\\u2060"}');
  });

  it('answers hasUnprintable the same on repeated calls (no regex state carried over)', () => {
    expect([hasUnprintable('a\x1b'), hasUnprintable('a\x1b'), hasUnprintable('plain')]).toEqual([true, true, false]);
  });
});

describe('everything printed on a terminal is printable', () => {
  it('error lines', () => {
    const line = formatUserFacingError(new RunDockerError(`image "${HOSTILE}" is not valid`, 'Fix it.'));
    expect(hasUnprintable(line)).toBe(false);
    expect(line).toContain('\\x1b[2J');
  });

  it('warning and debug lines', () => {
    const lines: string[] = [];
    const log = createLogger({ RUN_DOCKER_DEBUG: '1' }, (line) => lines.push(line));
    log.warn(HOSTILE);
    log.debug(HOSTILE);
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(hasUnprintable(line)).toBe(false);
  });

  it('pull progress from the engine, on a terminal and in plain lines', () => {
    const event = { id: `abc${HOSTILE}`, status: `Downloading${HOSTILE}` };
    const state = reducePullEvent(EMPTY_PULL_PROGRESS, event);
    expect(hasUnprintable(JSON.stringify(state.layers.map((layer) => [layer.id, layer.status])))).toBe(false);
    const layer = defined(state.layers[0], 'a layer');
    expect(hasUnprintable(layer.id + layer.status)).toBe(false);
    const plain = formatPlainPullLine(EMPTY_PULL_PROGRESS, event);
    expect(plain).toBeDefined();
    expect(hasUnprintable(plain!)).toBe(false);
    const note = reducePullEvent(EMPTY_PULL_PROGRESS, { status: `Pulling from ${HOSTILE}` });
    expect(hasUnprintable(note.header.join(''))).toBe(false);
  });
});

describe('formatShellCommand with control characters', () => {
  it('prints no raw control character, and bash reads back the very same arguments', () => {
    const argv = ['docker', 'run', 'img', 'echo', HOSTILE, "it's \\ $HOME", 'plain', 'a b'];
    const printed = formatShellCommand(argv);
    expect(hasUnprintable(printed)).toBe(false);
    // bash reads the printed line back as the same words (UTF-8 locale for \u escapes).
    const readBack = execFileSync('bash', ['-c', `printf '%s\\0' ${printed.split(' ').slice(1).join(' ')}`], {
      env: { PATH: process.env.PATH, LC_ALL: 'C.UTF-8' },
    })
      .toString('utf8')
      .split('\0')
      .slice(0, -1);
    expect(readBack).toEqual(argv.slice(1));
  });
});
