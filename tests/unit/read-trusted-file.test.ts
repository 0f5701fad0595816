/**
 * The owner rule for files that decide what runs (common/read-trusted-file.ts), on real
 * folders: every folder on the way to the file, not only its own, must be one nobody but the
 * user or root can change, as sudo and OpenSSH check. Run as root (the tests' user here), so
 * folders and links of "another user" are made with chown to uid 4321.
 */
import { chmod, chown, lchown, lstat, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnreadableFile } from '../../common/read-private-file';
import { readTrustedFile, resolveTrustedPath } from '../../common/read-trusted-file';
import { readConfigFile } from '../../shim/read-config-file';
import { formatUserFacingError, RunDockerError } from '../../common/run-docker-error';

const ROOT = { uid: 0, gid: 0 };
const OTHER = 4321;
let dir: string;

beforeAll(() => {
  // chown to another uid needs root; the tests' machines run them as root.
  expect(process.getuid?.()).toBe(0);
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'run-docker-trusted-'));
  await chmod(dir, 0o755);
});
afterEach(() => rm(dir, { recursive: true, force: true }));

/** `dir/<parts…>/config.json` holding `{}`, every folder created 0755 and root's. */
async function configAt(...parts: string[]): Promise<string> {
  await mkdir(join(dir, ...parts), { recursive: true, mode: 0o755 });
  const file = join(dir, ...parts, 'config.json');
  await writeFile(file, '{"tiny": "r/tiny@sha256:' + '0'.repeat(64) + '"}');
  return file;
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof Error)) throw new Error('expected a refusal');
  return error.message;
}

describe('a system config file (root alone may change it)', () => {
  it('is refused when a folder above its own belongs to another user, though its own folder is root-only', async () => {
    const file = await configAt('xdg', 'run-docker');
    await chown(join(dir, 'xdg'), OTHER, OTHER);
    expect(await refusal(readConfigFile(file, ROOT, 'system'))).toBe(
      `the config file "${file}" is not used: it names the images this host trusts, and it sits in the folder "${join(dir, 'xdg')}", which can be changed by uid ${OTHER}, its owner`,
    );
  });

  it('is refused when a folder above it is writable by every user without the sticky bit', async () => {
    const file = await configAt('open', 'run-docker');
    await chmod(join(dir, 'open'), 0o777);
    expect(await refusal(readConfigFile(file, ROOT, 'system'))).toContain(
      `sits in the folder "${join(dir, 'open')}", which can be changed by every user (mode 0777)`,
    );
  });

  it('is read through a root-owned sticky folder (/tmp), but not through a sticky folder another user owns', async () => {
    const file = await configAt('sticky', 'run-docker');
    await chmod(join(dir, 'sticky'), 0o1777);
    expect((await readConfigFile(file, ROOT, 'system')).content).toHaveProperty('tiny');
    await chown(join(dir, 'sticky'), OTHER, OTHER);
    expect(await refusal(readConfigFile(file, ROOT, 'system'))).toContain(
      `which can be changed by uid ${OTHER}, its owner`,
    );
  });
});

describe('links on the way', () => {
  it('are followed when nobody else could have placed them, and their target is checked the same way', async () => {
    const file = await configAt('real', 'run-docker');
    await symlink(join(dir, 'real'), join(dir, 'link'));
    expect(resolveTrustedPath(join(dir, 'link', 'run-docker', 'config.json'), ROOT)).toBe(file);
    // A relative link with `..` in it.
    await mkdir(join(dir, 'a'), { mode: 0o755 });
    await symlink('../real/run-docker', join(dir, 'a', 'rd'));
    expect(resolveTrustedPath(join(dir, 'a', 'rd', 'config.json'), ROOT)).toBe(file);

    // Root's link into another user's folder: that user could change what it reaches.
    await chown(join(dir, 'real'), OTHER, OTHER);
    expect(() => resolveTrustedPath(join(dir, 'link', 'run-docker', 'config.json'), ROOT)).toThrow(
      `sits in the folder "${join(dir, 'real')}", which can be changed by uid ${OTHER}, its owner`,
    );
  });

  it('are refused when another user owns them, even in a root-owned sticky folder', async () => {
    const file = await configAt('real', 'run-docker');
    await mkdir(join(dir, 'tmp'), { mode: 0o1777 });
    await chmod(join(dir, 'tmp'), 0o1777);
    await symlink(file, join(dir, 'tmp', 'config.json'));
    await lchown(join(dir, 'tmp', 'config.json'), OTHER, OTHER);
    expect(() => resolveTrustedPath(join(dir, 'tmp', 'config.json'), ROOT)).toThrow(
      `is reached through the link "${join(dir, 'tmp', 'config.json')}", which belongs to uid ${OTHER}`,
    );
  });

  it('in a loop end in ELOOP, not a hang', async () => {
    await symlink(join(dir, 'b'), join(dir, 'a'));
    await symlink(join(dir, 'a'), join(dir, 'b'));
    expect(() => resolveTrustedPath(join(dir, 'a', 'config.json'), ROOT)).toThrow(/ELOOP/);
  });
});

describe('readTrustedFile', () => {
  it("reads a user's own file through the user's own folders, and says undefined for a missing one", async () => {
    const file = await configAt('home', '.docker');
    await chown(join(dir, 'home'), OTHER, OTHER);
    await chown(join(dir, 'home', '.docker'), OTHER, OTHER);
    await chown(file, OTHER, OTHER);
    const user = { uid: OTHER, gid: OTHER };
    expect((await readTrustedFile(file, { user, maxBytes: 1024 }))?.toString()).toContain('tiny');
    expect(
      await readTrustedFile(join(dir, 'home', 'missing', 'config.json'), { user, maxBytes: 1024 }),
    ).toBeUndefined();
    // Root with that user's HOME: the same file is that user's to change.
    const error = await readTrustedFile(file, { user: ROOT, maxBytes: 1024 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UnreadableFile);
    expect((error as UnreadableFile).reason).toBe('writable-by-others');
    // Where nothing is, nothing is taken: root with that HOME and no file in it goes on.
    expect(
      await readTrustedFile(join(dir, 'home', '.docker', 'absent.json'), { user: ROOT, maxBytes: 1024 }),
    ).toBeUndefined();
  });
});

describe("run-docker's config file", () => {
  it('is read with a UTF-8 byte-order mark (Windows editors write one), not refused with the mark in the message', async () => {
    const file = await configAt('bom', 'run-docker');
    await writeFile(file, '\ufeff{"mini": "r/mini"}');
    expect((await readConfigFile(file, ROOT, 'user')).content).toEqual({ mini: 'r/mini' });
    // Broken all the same: the message shows no invisible character raw.
    await writeFile(file, '\ufeff{"mini": "r/mini" \ufeff');
    const message = await refusal(readConfigFile(file, ROOT, 'user'));
    expect(message).toMatch(/^the config file ".*" is not valid JSON/);
    expect(formatUserFacingError(new RunDockerError(message, 'Fix it.'))).not.toMatch(/\ufeff/);
  });
});

describe('a folder run-docker keeps its own files in (options.folder)', () => {
  const folder = { folder: {} };
  const create = { folder: { create: 0o700 } };

  it("is refused through another user's folder even where nothing is yet, and that folder is judged too", async () => {
    await mkdir(join(dir, 'alice'), { mode: 0o755 });
    await chown(join(dir, 'alice'), OTHER, OTHER);
    const why = `sits in the folder "${join(dir, 'alice')}", which can be changed by uid ${OTHER}, its owner`;
    // Nothing under her folder: a file there would be nothing to read, a folder would be made there.
    expect(resolveTrustedPath(join(dir, 'alice', '.cache', 'x'), ROOT)).toBe(join(dir, 'alice', '.cache', 'x'));
    expect(() => resolveTrustedPath(join(dir, 'alice', '.cache', 'x'), ROOT, folder)).toThrow(why);
    expect(() => resolveTrustedPath(join(dir, 'alice', '.cache'), ROOT, create)).toThrow(why);
    // Her folder as the last one on the way is judged too (a file's own folder is judged when it is opened).
    expect(() => resolveTrustedPath(join(dir, 'alice'), ROOT, folder)).toThrow(why);
    expect(await readdir(join(dir, 'alice'))).toEqual([]);
  });

  it('is made folder by folder (create), each judged once made, and the path comes back with links resolved', async () => {
    await mkdir(join(dir, 'real'), { mode: 0o755 });
    await symlink(join(dir, 'real'), join(dir, 'link'));
    expect(resolveTrustedPath(join(dir, 'link', 'a', 'b'), ROOT, create)).toBe(join(dir, 'real', 'a', 'b'));
    for (const made of [join(dir, 'real', 'a'), join(dir, 'real', 'a', 'b')])
      expect(((await lstat(made)).mode & 0o777).toString(8)).toBe('700');
    // Without create, what is missing is left as it is.
    expect(resolveTrustedPath(join(dir, 'link', 'c', 'd'), ROOT, folder)).toBe(join(dir, 'real', 'c', 'd'));
    expect(await readdir(join(dir, 'real'))).toEqual(['a']);
  });

  it("in a sticky folder: made there as root's; one another user made first is refused, and nothing is made in it", async () => {
    await mkdir(join(dir, 'tmp'));
    await chmod(join(dir, 'tmp'), 0o1777);
    expect(resolveTrustedPath(join(dir, 'tmp', 'mine', 'x'), ROOT, create)).toBe(join(dir, 'tmp', 'mine', 'x'));
    expect((await lstat(join(dir, 'tmp', 'mine'))).uid).toBe(0);
    await mkdir(join(dir, 'tmp', 'hers'));
    await chown(join(dir, 'tmp', 'hers'), OTHER, OTHER);
    expect(() => resolveTrustedPath(join(dir, 'tmp', 'hers', 'x'), ROOT, create)).toThrow(
      `sits in the folder "${join(dir, 'tmp', 'hers')}", which can be changed by uid ${OTHER}, its owner`,
    );
    expect(await readdir(join(dir, 'tmp', 'hers'))).toEqual([]);
  });

  it('is refused through a link another user owns, and a folder others may write without the sticky bit', async () => {
    await mkdir(join(dir, 'real'), { mode: 0o755 });
    await symlink(join(dir, 'real'), join(dir, 'hers'));
    await lchown(join(dir, 'hers'), OTHER, OTHER);
    expect(() => resolveTrustedPath(join(dir, 'hers', 'x'), ROOT, create)).toThrow(
      `is reached through the link "${join(dir, 'hers')}", which belongs to uid ${OTHER}`,
    );
    await mkdir(join(dir, 'open'));
    await chmod(join(dir, 'open'), 0o777);
    expect(() => resolveTrustedPath(join(dir, 'open', 'x'), ROOT, create)).toThrow(
      `sits in the folder "${join(dir, 'open')}", which can be changed by every user (mode 0777)`,
    );
    expect(await readdir(join(dir, 'real'))).toEqual([]);
    expect(await readdir(join(dir, 'open'))).toEqual([]);
  });
});
