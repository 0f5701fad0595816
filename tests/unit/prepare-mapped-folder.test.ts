/**
 * Creating the data and log folders as root for docker-user (payload/run/prepare-mapped-folder.ts),
 * on real folders, against the attacks a user can stage when root runs with that user's HOME:
 * a link planted on the way, and a folder swapped for a link between two steps (made
 * deterministic by the module's step hook, where the attacker would race with inotify).
 * Run as root (the tests' user here); "another user" is uid 4321, made with chown.
 */
import { chmod, chown, lchown, lstat, mkdir, mkdtemp, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { renameSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunDockerError } from '../../common/run-docker-error';
import { prepareMappedFolder, type MappedFolder } from '../../payload/run/prepare-mapped-folder';

const OTHER = 4321;
const DOCKER_USER = { uid: 1000, gid: 1000 };
const AS_ROOT = { uid: 0, owner: DOCKER_USER, create: true };
let dir: string;

beforeAll(() => {
  expect(process.getuid?.()).toBe(0);
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'run-docker-mapped-'));
  await chmod(dir, 0o755);
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const data = (...parts: string[]): MappedFolder => ({ path: join(dir, ...parts), option: '--hostdatadir' });
const ownerOf = async (path: string) => {
  const info = await lstat(path);
  return `${info.uid}:${info.gid}`;
};

function failure(run: () => void): RunDockerError {
  try {
    run();
  } catch (error) {
    if (error instanceof RunDockerError) return error;
    throw error;
  }
  throw new Error('expected a RunDockerError');
}

describe('as root for docker-user', () => {
  it('creates what is missing and gives docker-user the mapped folder only; an existing one is left as it is', async () => {
    prepareMappedFolder(data('home', 'work', 'data'), AS_ROOT);
    expect(await ownerOf(join(dir, 'home', 'work'))).toBe('0:0');
    expect(await ownerOf(join(dir, 'home', 'work', 'data'))).toBe('1000:1000');

    await mkdir(join(dir, 'home', 'work', 'log'));
    prepareMappedFolder({ path: join(dir, 'home', 'work', 'log'), option: '--hostlogdir' }, AS_ROOT);
    expect(await ownerOf(join(dir, 'home', 'work', 'log'))).toBe('0:0');
    // The next run passes through docker-user's folder as the last step: that is its own folder, not a way elsewhere.
    prepareMappedFolder(data('home', 'work', 'data'), AS_ROOT);
  });

  it("refuses a way through another user's folder, in one line that says what to do, and creates nothing", async () => {
    await mkdir(join(dir, 'alice'));
    await chown(join(dir, 'alice'), OTHER, OTHER);
    const error = failure(() => prepareMappedFolder(data('alice', 'work', 'data'), AS_ROOT));
    expect(`${error.message}. ${error.hint}`).toBe(
      `the data folder "${join(dir, 'alice', 'work', 'data')}" is not used: run-docker runs as root, and "${join(dir, 'alice')}" on its way belongs to uid ${OTHER}, who could point it anywhere. Run with "sudo -H" (HOME of root), or choose a folder only root can change with --hostdatadir (or "no" to map none).`,
    );
    expect(await readdir(join(dir, 'alice'))).toEqual([]);
  });

  it('a ~/work link another user planted creates nothing where it points', async () => {
    // Her HOME: refused there already. A link of hers in a folder of root's (lchown stands in for a link root was tricked into keeping): refused too.
    await mkdir(join(dir, 'target'));
    await mkdir(join(dir, 'alice'));
    await symlink(join(dir, 'target'), join(dir, 'alice', 'work'));
    await lchown(join(dir, 'alice', 'work'), OTHER, OTHER);
    expect(failure(() => prepareMappedFolder(data('alice', 'work', 'data'), AS_ROOT)).message).toBe(
      `the data folder "${join(dir, 'alice', 'work', 'data')}" is not used: run-docker runs as root, and the link "${join(dir, 'alice', 'work')}" on its way belongs to uid ${OTHER}`,
    );
    await chown(join(dir, 'alice'), OTHER, OTHER);
    expect(failure(() => prepareMappedFolder(data('alice', 'work', 'data'), AS_ROOT)).message).toContain(
      `"${join(dir, 'alice')}" on its way belongs to uid ${OTHER}`,
    );
    expect(await readdir(join(dir, 'target'))).toEqual([]);
  });

  it('follows the links root placed (a /home that is a link), and checks where they lead', async () => {
    await mkdir(join(dir, 'var', 'home', 'me'), { recursive: true });
    await symlink(join(dir, 'var', 'home'), join(dir, 'home'));
    prepareMappedFolder(data('home', 'me', 'work', 'data'), AS_ROOT);
    expect(await ownerOf(join(dir, 'var', 'home', 'me', 'work', 'data'))).toBe('1000:1000');
    await symlink('../var/home/me', join(dir, 'var', 'me'));
    prepareMappedFolder(data('var', 'me', 'work', 'log'), AS_ROOT);
    expect(await ownerOf(join(dir, 'var', 'home', 'me', 'work', 'log'))).toBe('1000:1000');
    await chown(join(dir, 'var', 'home', 'me'), OTHER, OTHER);
    expect(failure(() => prepareMappedFolder(data('home', 'me', 'work', 'data'), AS_ROOT)).message).toContain(
      `"${join(dir, 'var', 'home', 'me')}" on its way belongs to uid ${OTHER}`,
    );
  });

  it('creates nothing in a folder every user may write, unless it has the sticky bit (/tmp); passing through one is no harm', async () => {
    await mkdir(join(dir, 'open'));
    await chmod(join(dir, 'open'), 0o777);
    expect(failure(() => prepareMappedFolder(data('open', 'data'), AS_ROOT)).message).toContain(
      `"${join(dir, 'open')}", where it would be created, can be changed by every user (mode 0777)`,
    );
    await mkdir(join(dir, 'open', 'existing'));
    prepareMappedFolder(data('open', 'existing', 'data'), AS_ROOT);
    expect(await ownerOf(join(dir, 'open', 'existing', 'data'))).toBe('1000:1000');
    await chmod(join(dir, 'open'), 0o1777);
    prepareMappedFolder(data('open', 'data'), AS_ROOT);
    expect(await ownerOf(join(dir, 'open', 'data'))).toBe('1000:1000');
  });

  it("a folder swapped for a link between creating and giving it away: the link's target stays root's", async () => {
    const secret = join(dir, 'root-only');
    await writeFile(secret, 'root only', { mode: 0o600 });
    await mkdir(join(dir, 'home'));
    prepareMappedFolder(data('home', 'data'), {
      ...AS_ROOT,
      afterStep: (step, path) => {
        if (step !== 'opened') return;
        renameSync(path, join(dir, 'moved'));
        symlinkSync(secret, path);
      },
    });
    expect(await ownerOf(secret)).toBe('0:0');
    // What was given away is the folder made for the run, wherever it is now.
    expect(await ownerOf(join(dir, 'moved'))).toBe('1000:1000');
  });

  it('a folder swapped for a link between creating and opening it: refused, and nothing is given away', async () => {
    const rootFolder = join(dir, 'root-folder');
    await mkdir(rootFolder, { mode: 0o700 });
    await mkdir(join(dir, 'home'));
    const error = failure(() =>
      prepareMappedFolder(data('home', 'data'), {
        ...AS_ROOT,
        afterStep: (step, path) => {
          if (step !== 'created') return;
          renameSync(path, join(dir, 'moved'));
          symlinkSync(rootFolder, path);
        },
      }),
    );
    expect(error.message).toBe(
      `the data folder "${join(dir, 'home', 'data')}" is not used: "${join(dir, 'home', 'data')}" was replaced right after run-docker created it (ENOTDIR)`,
    );
    expect(await ownerOf(rootFolder)).toBe('0:0');
    expect(await ownerOf(join(dir, 'moved'))).toBe('0:0');
  });
});

describe('for every user', () => {
  it('a file where the folder should be: "exists and is not a folder", not a failed mkdir', async () => {
    await mkdir(join(dir, 'work'));
    await writeFile(join(dir, 'work', 'data'), '');
    for (const options of [AS_ROOT, { uid: OTHER, create: true }]) {
      const error = failure(() => prepareMappedFolder(data('work', 'data'), options));
      expect(`${error.message}. ${error.hint}`).toBe(
        `the data folder "${join(dir, 'work', 'data')}" exists and is not a folder. Move it away, or choose another folder with --hostdatadir (or "no" to map none).`,
      );
    }
    expect(failure(() => prepareMappedFolder(data('work', 'data', 'deeper'), AS_ROOT)).message).toBe(
      `the data folder "${join(dir, 'work', 'data', 'deeper')}" cannot be created: "${join(dir, 'work', 'data')}" on its way is not a folder`,
    );
  });

  it("a user other than root maps what they like: others' folders and links on the way, nothing given away", async () => {
    await mkdir(join(dir, 'team', 'real'), { recursive: true });
    await chown(join(dir, 'team'), OTHER + 1, OTHER + 1);
    await symlink(join(dir, 'team', 'real'), join(dir, 'team', 'link'));
    await lchown(join(dir, 'team', 'link'), OTHER + 1, OTHER + 1);
    prepareMappedFolder(data('team', 'link', 'data'), { uid: OTHER, create: true });
    expect((await stat(join(dir, 'team', 'real', 'data'))).isDirectory()).toBe(true);
    expect(await ownerOf(join(dir, 'team', 'real', 'data'))).toBe('0:0');
  });

  it('a source folder is only checked, never created', async () => {
    await mkdir(join(dir, 'alice', 'src'), { recursive: true });
    await chown(join(dir, 'alice'), OTHER, OTHER);
    const source = { path: join(dir, 'alice', 'src'), option: '--hostsrcdir' as const };
    expect(`${failure(() => prepareMappedFolder(source, { uid: 0, create: false })).hint}`).toBe(
      'Run with "sudo -H" (HOME of root), or choose a folder only root can change with --hostsrcdir.',
    );
    expect(failure(() => prepareMappedFolder(data('missing'), { uid: 0, create: false })).message).toBe(
      `cannot use the data folder "${join(dir, 'missing')}" (ENOENT)`,
    );
  });
});
