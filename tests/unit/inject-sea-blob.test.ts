/**
 * scripts/inject-sea-blob.cjs refuses what it does not recognise, in one line, and writes
 * nothing then. That it makes a working executable from the official Node.js binary is
 * tested end to end by tests/integration/single-executable.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SCRIPT = join(__dirname, '..', '..', 'scripts', 'inject-sea-blob.cjs');

let work: string;
beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'inject-sea-blob-'));
  writeFileSync(join(work, 'blob'), 'blob');
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

function inject(binary: string) {
  const result = spawnSync(process.execPath, [SCRIPT, binary, join(work, 'blob'), join(work, 'out')], { encoding: 'utf8' });
  return { code: result.status, stderr: result.stderr, files: readdirSync(work).sort() };
}

test('a file that is not ELF is refused in one line, and nothing is written', () => {
  writeFileSync(join(work, 'not-elf'), '#!/bin/sh\necho hi\n');
  expect(inject(join(work, 'not-elf'))).toEqual({ code: 1, stderr: 'inject-sea-blob: not a 64-bit little-endian ELF file\n', files: ['blob', 'not-elf'] });
});

test('a position-independent executable (not how the official Node.js is built) is refused', () => {
  // Debian builds its programs as PIE; /bin/dash is one.
  expect(inject('/bin/dash')).toEqual({
    code: 1,
    stderr: 'inject-sea-blob: not a non-PIE executable (ET_EXEC), as the official Linux builds are\n',
    files: ['blob'],
  });
});

test('a missing argument is a usage line', () => {
  const result = spawnSync(process.execPath, [SCRIPT, '/bin/dash'], { encoding: 'utf8' });
  expect({ code: result.status, stderr: result.stderr }).toEqual({ code: 1, stderr: 'inject-sea-blob: usage: node scripts/inject-sea-blob.cjs NODE_BINARY BLOB OUTPUT\n' });
});
