import type { Logger } from '../contract/contract';
import { makePrintable } from '../common/make-printable';

export function createLogger(
  env: Readonly<Record<string, string | undefined>>,
  writeLine: (line: string) => void,
): Logger {
  const debugging = Boolean(env.RUN_DOCKER_DEBUG);
  return {
    // Lines carry image names, tags and registry or engine words: never raw escapes.
    warn: (line) => writeLine(`run-docker: warning: ${makePrintable(line)}`),
    debug: (line) => {
      if (debugging) writeLine(`run-docker: debug: ${makePrintable(line)}`);
    },
  };
}
