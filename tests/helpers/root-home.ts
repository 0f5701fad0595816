/**
 * Root's own home for a test: run-docker as root keeps its cache and state in root's home
 * from the user database when HOME is another user's (shim/locate-own-folder.ts), and a test
 * must neither write into this machine's /root nor read what other runs left there.
 */
import { userInfo } from 'node:os';
import { join } from 'node:path';

/** A launcher for startShim/runShim: the shim sees `folder` as root's home, in a mount namespace of its own. */
export function withRootHome(folder: string): string[] {
  const rootHome = userInfo().homedir;
  return [
    'unshare',
    '--mount',
    '--propagation',
    'private',
    '--',
    'sh',
    join(__dirname, 'with-root-home.sh'),
    rootHome,
    folder,
  ];
}

/** Runs as uid `uid` (a stand-in for another user on the host: no name, no groups). */
export function asUser(uid: number): string[] {
  return ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups'];
}
