import type { Logger } from '../contract/contract';

export function createLogger(env: Readonly<Record<string, string | undefined>>, writeLine: (line: string) => void): Logger {
  const debugging = Boolean(env.RUN_DOCKER_DEBUG);
  return {
    warn: (line) => writeLine(`run-docker: warning: ${line}`),
    debug: (line) => {
      if (debugging) writeLine(`run-docker: debug: ${line}`);
    },
  };
}
