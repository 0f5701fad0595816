/** A fresh folder under the system's temporary folder, for a test file or for each test, removed afterwards. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** `folder.path` is set before the file's (`each: false`) or each test's (`each: true`) run. */
export function useTempDir(prefix: string, { each = false } = {}): { path: string } {
  const folder = { path: '' };
  const [before, after] = each ? [beforeEach, afterEach] : [beforeAll, afterAll];
  before(async () => {
    folder.path = await mkdtemp(join(tmpdir(), prefix));
  });
  after(() => rm(folder.path, { recursive: true, force: true }));
  return folder;
}
