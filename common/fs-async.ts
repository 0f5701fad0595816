/**
 * Promise forms of the node:fs calls run-docker makes, over node:fs's callbacks. Not
 * node:fs/promises: loading it also loads readline, the fs watchers and its FileHandle
 * class, and each call goes through them, ~3 ms of every call here (docs/performance.md);
 * a static import of it anywhere in a bundle loads it at the bundle's start.
 * Errors are node:fs's own (code, syscall, path), as from node:fs/promises.
 */
import fs from 'node:fs';
import { promisify } from 'node:util';

export const access = promisify(fs.access);
export const chmod = promisify(fs.chmod);
export const chown = promisify(fs.chown);
export const close = promisify(fs.close);
export const fsync = promisify(fs.fsync);
export const lstat = promisify(fs.lstat);
export const mkdir = promisify(fs.mkdir);
export const mkdtemp = promisify(fs.mkdtemp);
export const open = promisify(fs.open);
export const readdir = promisify(fs.readdir);
export const readFile = promisify(fs.readFile);
export const readlink = promisify(fs.readlink);
export const rename = promisify(fs.rename);
export const rm = promisify(fs.rm);
export const stat = promisify(fs.stat);
export const writeFile = promisify(fs.writeFile);

/** fstat of an open file, with times in ns (bigint). */
export function fstatBigInt(fd: number): Promise<fs.BigIntStats> {
  return new Promise((resolve, reject) => fs.fstat(fd, { bigint: true }, (error, stats) => (error ? reject(error) : resolve(stats))));
}

/** Reads into `buffer` at `offset`, at most `length` bytes from the file's current position; the count read. */
export function readInto(fd: number, buffer: Buffer, offset: number, length: number): Promise<number> {
  return new Promise((resolve, reject) => fs.read(fd, buffer, offset, length, null, (error, bytesRead) => (error ? reject(error) : resolve(bytesRead))));
}
