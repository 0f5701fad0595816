/**
 * A signal that lands just as an extraction completes: the flow must not go on to start
 * anything (it once went on to `docker run`, which the exit then orphaned). Staged with an
 * engine stand-in whose archive arrives whole, and a SIGINT emitted while it is parsed.
 */
import { mkdtemp, readFile, rm, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { EngineClient } from '../../contract/contract';
import { pack as packTar } from 'tar-stream';
import { copyFromImage } from '../../common/copy-from-image';
import { runDockerCli } from '../../payload/run/run-docker-cli';

test('after a signal, the copy never returns, the container is removed, and no docker run starts', async () => {
  const removed: string[] = [];
  const archive = new PassThrough();
  let archiveAsked: () => void = () => undefined;
  const copying = new Promise<void>((resolve) => (archiveAsked = resolve));
  // Only what an extraction uses; an archive stream the test controls.
  const engine = {
    listContainers: async () => [],
    createContainer: async () => 'c1',
    copyFromContainer: async () => {
      archiveAsked();
      return archive;
    },
    removeContainer: async (id: string) => {
      removed.push(id);
    },
  } as Partial<EngineClient> as EngineClient;
  const exit = jest.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
  let settled = false;
  const copy = copyFromImage(engine, 'sha256:abc', '/etc/passwd').finally(() => (settled = true));
  await copying;
  // The whole archive is there; the signal arrives while it is read.
  const tar = await new Promise<Buffer>((resolve) => {
    const pack = packTar();
    const chunks: Buffer[] = [];
    pack.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
    pack.on('end', () => resolve(Buffer.concat(chunks)));
    pack.entry({ name: 'passwd' }, 'docker-user:x:1000:1000::/home/docker-user:/bin/sh\n');
    pack.finalize();
  });
  archive.write(tar);
  process.emit('SIGINT', 'SIGINT');
  archive.end();
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(settled).toBe(false);
  expect(removed).toEqual(['c1']);
  expect(exit).toHaveBeenCalledWith(130);

  // What the run would do next: a docker that leaves a mark if it is ever started.
  const bin = await mkdtemp(join(tmpdir(), 'run-docker-fake-docker-'));
  try {
    await writeFile(join(bin, 'docker'), `#!/bin/sh\ntouch "${bin}/started"\n`);
    await chmod(join(bin, 'docker'), 0o755);
    let ran = false;
    void runDockerCli(['run', 'img'], { PATH: bin }, { stdinIsTerminal: false, ttyAllocated: false }).then(
      () => (ran = true),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(ran).toBe(false);
    await expect(readFile(join(bin, 'started'))).rejects.toMatchObject({ code: 'ENOENT' });
  } finally {
    exit.mockRestore();
    await rm(bin, { recursive: true, force: true });
    void copy;
  }
});
