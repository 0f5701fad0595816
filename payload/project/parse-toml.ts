/**
 * TOML, read with smol-toml (docs/decisions/toml-library.md says why that library). It is
 * loaded only here, when a call uses a project file: scripts/build.mjs bundles it as a
 * compressed string compiled on first use, so a call without `.` never pays for it.
 */
import type * as SmolToml from 'smol-toml';
import { RunDockerError } from '../../common/run-docker-error';

/** Deeper than any pyproject.toml nests; far below the library's own default of 1000. */
const MAX_DEPTH = 64;

/** The document in `bytes` (UTF-8, as TOML requires); one RunDockerError naming `file`, line and column otherwise. */
export function parseToml(bytes: Uint8Array, file: string): unknown {
  let text: string;
  try {
    // TOML 1.0: a document is UTF-8; invalid bytes are an error, not U+FFFD.
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new RunDockerError(`"${file}" is not valid TOML (it is not UTF-8 text)`, 'Save it as UTF-8.');
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy: only a call that reads a project file loads it
  const { parse } = require('smol-toml') as typeof SmolToml;
  try {
    // `__proto__` and `constructor` keys are refused: the tables become plain objects here.
    return parse(text, { maxDepth: MAX_DEPTH, unsafeKeyBehaviour: 'throw' });
  } catch (error) {
    const { line, column, message } = error as { line?: number; column?: number; message?: string };
    const where = line === undefined ? '' : `line ${line}, column ${column ?? 1}: `;
    // The library's message is "Invalid TOML document: <why>" followed by a code excerpt.
    const why = (message ?? String(error)).split('\n')[0]!.replace(/^Invalid TOML document:\s*/, '');
    throw new RunDockerError(
      `"${file}" is not valid TOML (${where}${why})`,
      'Fix the file; see toml.io for the syntax.',
    );
  }
}
