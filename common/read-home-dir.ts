/**
 * The user's home folder. `HOME` when it is an absolute path; an empty or relative `HOME`
 * would make the current folder the home, so a checkout one does not trust would choose
 * the config (the trust root), the cache and the mapped folders. Then the user database's
 * home is used instead. Node's `os.homedir()` cannot tell: it returns `$HOME` as it is, even
 * "" or "rel"; `os.userInfo().homedir` reads the user database.
 */
import { isAbsolute } from 'node:path';
import { userInfo } from 'node:os';
import { RunDockerError } from './run-docker-error';

/** Pure: `envHome` when absolute, else `databaseHome` when absolute, else undefined. */
export function selectHomeDir(envHome: string | undefined, databaseHome: string | undefined): string | undefined {
  if (envHome && isAbsolute(envHome)) return envHome;
  if (databaseHome && isAbsolute(databaseHome)) return databaseHome;
  return undefined;
}

export function readHomeDir(env: Readonly<Record<string, string | undefined>>): string {
  // The user database only when HOME does not do (asking it reads /etc/passwd through NSS).
  const home = env.HOME && isAbsolute(env.HOME) ? env.HOME : selectHomeDir(env.HOME, readDatabaseHome());
  if (home === undefined) {
    throw new RunDockerError(
      `HOME is ${env.HOME ? `"${env.HOME}", not an absolute path` : 'not set'}, and the user database has no home for uid ${process.getuid?.() ?? '?'}`,
      'Set HOME to the absolute path of your home folder.',
    );
  }
  return home;
}

function readDatabaseHome(): string | undefined {
  try {
    return userInfo().homedir;
  } catch {
    // A uid with no passwd entry (containers, CI).
    return undefined;
  }
}
