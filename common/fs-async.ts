/**
 * Promise forms of the node:fs calls run-docker makes, over node:fs's callbacks, each made on
 * its first use. Not node:fs/promises: loading it also loads readline, the fs watchers and
 * its FileHandle class, and a static import of it anywhere in a bundle loads it at the
 * bundle's start (docs/performance.md). Named imports only: a default or namespace import of
 * a built-in makes esbuild copy every one of its exports at start-up.
 * Errors are node:fs's own (code, syscall, path), as from node:fs/promises.
 */
import {
  access as accessCallback,
  chmod as chmodCallback,
  chown as chownCallback,
  close as closeCallback,
  fsync as fsyncCallback,
  lstat as lstatCallback,
  mkdir as mkdirCallback,
  mkdtemp as mkdtempCallback,
  open as openCallback,
  readdir as readdirCallback,
  readFile as readFileCallback,
  rename as renameCallback,
  rm as rmCallback,
  writeFile as writeFileCallback,
} from 'node:fs';
import { promisify } from 'node:util';

/** `promisify(callback)`, made when first called: most calls of run-docker use few of these. */
function onFirstUse<T extends (...args: never[]) => unknown>(make: () => T): T {
  let made: T | undefined;
  return ((...args: Parameters<T>) => (made ??= make())(...args)) as T;
}

export const access = onFirstUse(() => promisify(accessCallback));
export const chmod = onFirstUse(() => promisify(chmodCallback));
export const chown = onFirstUse(() => promisify(chownCallback));
export const close = onFirstUse(() => promisify(closeCallback));
export const fsync = onFirstUse(() => promisify(fsyncCallback));
export const lstat = onFirstUse(() => promisify(lstatCallback));
export const mkdir = onFirstUse(() => promisify(mkdirCallback));
export const mkdtemp = onFirstUse(() => promisify(mkdtempCallback));
export const open = onFirstUse(() => promisify(openCallback));
export const readdir = onFirstUse(() => promisify(readdirCallback));
export const readFile = onFirstUse(() => promisify(readFileCallback));
export const rename = onFirstUse(() => promisify(renameCallback));
export const rm = onFirstUse(() => promisify(rmCallback));
export const writeFile = onFirstUse(() => promisify(writeFileCallback));
