import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { compileFunction } from 'node:vm';

/**
 * Runs a verified CommonJS bundle from the very bytes that were hashed (not re-read
 * from disk, where it could change between check and use) and returns its exports.
 */
export function compilePayload(source: string, filename: string): unknown {
  const module = { exports: {} as unknown };
  const wrapper = compileFunction(source, ['exports', 'require', 'module', '__filename', '__dirname'], { filename }) as (...args: unknown[]) => void;
  wrapper(module.exports, createRequire(filename), module, filename, dirname(filename));
  return module.exports;
}
