/**
 * What a call looked up next, per folder (payload/locator/predict-next-lookup.ts): the pure
 * rules, and the file, written only when it changes.
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  LOOKUP_MEMORY_FILE,
  MAX_ENTRIES,
  noteNoFurtherLookup,
  parseLookupMemory,
  readLookupMemory,
  rememberNextLookup,
  selectNextLookup,
  updateLookupMemory,
  type LookupMemory,
} from '../../payload/locator/predict-next-lookup';
import { useTempDir } from '../helpers/temp-dir';
import { processEarlyAnswers } from '../../payload/locator/registry/transport/early-answers';
import type { BaseContext } from '../../contract/contract';

const temp = useTempDir('run-docker-next-lookup-', { each: true });
const MINI = 'registry.test/team/mini';
const APP = 'registry.test/team/app';

describe('the memory, pure', () => {
  const empty: LookupMemory = { version: 1, entries: [] };

  it('reads anything it cannot use as empty, and keeps the well-formed entries only', () => {
    expect(parseLookupMemory('')).toEqual(empty);
    expect(parseLookupMemory('{"version":2,"entries":[]}')).toEqual(empty);
    const good = { folder: '/p', after: MINI, next: APP, at: 5 };
    expect(parseLookupMemory(JSON.stringify({ version: 1, entries: [good, { folder: 1 }, null] }))).toEqual({
      version: 1,
      entries: [good],
    });
  });

  it('knows the next lookup per folder and per lookup', () => {
    const memory = updateLookupMemory(empty, '/p', MINI, APP, 1)!;
    expect(selectNextLookup(memory, '/p', MINI)).toBe(APP);
    expect(selectNextLookup(memory, '/q', MINI)).toBeUndefined();
    expect(selectNextLookup(memory, '/p', APP)).toBeUndefined();
  });

  it('says "unchanged" when it holds that already, and forgets an entry set to nothing', () => {
    const memory = updateLookupMemory(empty, '/p', MINI, APP, 1)!;
    expect(updateLookupMemory(memory, '/p', MINI, APP, 2)).toBeUndefined();
    expect(updateLookupMemory(empty, '/p', MINI, undefined, 2)).toBeUndefined();
    expect(updateLookupMemory(memory, '/p', MINI, undefined, 2)).toEqual(empty);
    expect(selectNextLookup(updateLookupMemory(memory, '/p', MINI, 'registry.test/team/other', 2)!, '/p', MINI)).toBe(
      'registry.test/team/other',
    );
  });

  it(`keeps the ${MAX_ENTRIES} most recent folders`, () => {
    let memory = empty;
    for (let i = 0; i <= MAX_ENTRIES; i++) memory = updateLookupMemory(memory, `/p${i}`, MINI, APP, i)!;
    expect(memory.entries).toHaveLength(MAX_ENTRIES);
    expect(selectNextLookup(memory, '/p0', MINI)).toBeUndefined();
    expect(selectNextLookup(memory, `/p${MAX_ENTRIES}`, MINI)).toBe(APP);
  });
});

describe('the file', () => {
  it('is written 0600 when the memory changes, and left alone when it does not', async () => {
    const file = join(temp.path, LOOKUP_MEMORY_FILE);
    await rememberNextLookup(temp.path, '/p', MINI, APP);
    expect(((await stat(file)).mode & 0o777).toString(8)).toBe('600');
    expect(selectNextLookup(await readLookupMemory(temp.path), '/p', MINI)).toBe(APP);
    const written = (await stat(file)).ino;
    await rememberNextLookup(temp.path, '/p', MINI, APP);
    expect((await stat(file)).ino).toBe(written);
  });

  it('that cannot be read counts as empty, and a write that fails costs nothing but the memory', async () => {
    await writeFile(join(temp.path, LOOKUP_MEMORY_FILE), 'not json');
    expect(await readLookupMemory(temp.path)).toEqual({ version: 1, entries: [] });
    const debug: string[] = [];
    await rememberNextLookup(join(temp.path, 'missing-folder'), '/p', MINI, APP, {
      warn: () => {},
      debug: (line) => debug.push(line),
    });
    expect(debug).toEqual([expect.stringContaining('cannot write')]);
    expect(await readFile(join(temp.path, LOOKUP_MEMORY_FILE), 'utf8')).toBe('not json');
  });
});

describe('noteNoFurtherLookup', () => {
  it("forgets what followed this call's last lookup in this folder, once, and only when it had guessed something", async () => {
    const ctx = { cacheDir: temp.path, log: { warn: () => {}, debug: () => {} } } as unknown as BaseContext;
    await rememberNextLookup(temp.path, process.cwd(), MINI, APP);
    const lookups = processEarlyAnswers().lookups;
    lookups.push({ repository: MINI, predicted: APP });
    await noteNoFurtherLookup(ctx);
    expect(selectNextLookup(await readLookupMemory(temp.path), process.cwd(), MINI)).toBeUndefined();
    expect(lookups.at(-1)).toEqual({ repository: MINI, predicted: null });

    // A lookup that guessed nothing leaves the file alone.
    await rememberNextLookup(temp.path, process.cwd(), MINI, APP);
    lookups.push({ repository: MINI, predicted: null });
    await noteNoFurtherLookup(ctx);
    expect(selectNextLookup(await readLookupMemory(temp.path), process.cwd(), MINI)).toBe(APP);
    lookups.length = 0;
  });
});
