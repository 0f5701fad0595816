/**
 * Getting a verified payload out of an image (shim/obtain-payload.ts) on an engine in memory:
 * from its export or, when that fails or the image is large, from a never-started container
 * that is removed again; from the cache on the next call; refused when it is not ours.
 * Against the real engine: delivery, faults, host-files.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { LABEL } from '../../contract/contract';
import { EXTRACTION_LABEL } from '../../common/copy-from-image';
import { obtainBuildEntry } from '../../shim/obtain-build-entry';
import { obtainPayload, type PayloadSource } from '../../shim/obtain-payload';
import { payloadCacheDir } from '../../shim/payload-cache';
import { MAX_REFUSALS, REFUSED_FOLDER, refusalPath } from '../../shim/refused-images';
import { verifiedRecordPath } from '../../shim/verified-record';
import { PayloadRejected } from '../../shim/verify-payload';
import { createFakeEngine, type FakeEngine } from '../helpers/fake-engine';
import { miniImage } from '../helpers/payload-images';

let cacheRoot: string;
let engine: FakeEngine;
let warnings: string[];
let debug: string[];

beforeEach(async () => {
  cacheRoot = await mkdtemp(join(tmpdir(), 'run-docker-obtain-'));
  engine = createFakeEngine();
  warnings = [];
  debug = [];
});

afterEach(() => rm(cacheRoot, { recursive: true, force: true }));

function source(overrides: Partial<PayloadSource> = {}): PayloadSource {
  return {
    engine,
    cacheRoot,
    shimVersion: '1.0.0',
    log: { warn: (line) => warnings.push(line), debug: (line) => debug.push(line) },
    ...overrides,
  };
}

async function imageOf(id: string) {
  return (await engine.inspectImage(id))!;
}

/** Calls that read the image's files (an export, or a container's archive). */
const reads = () => engine.calls.filter((line) => /^(exportImage|createContainer|copyFromContainer) /.test(line));

it('reads a small image from its export, with no container, and the next call from the cache', async () => {
  const id = engine.addImage('mini:1', miniImage({ version: '20260101-000000' }));
  const payload = await obtainPayload(source(), await imageOf(id), 'mini');
  expect(payload.manifest.version).toBe('20260101-000000');
  expect(payload.entrySource).toContain("ctx.log.debug('ran mini '");
  expect(payload.entryPath).toBe(join(payloadCacheDir(cacheRoot, id), 'run.js'));
  expect(reads()).toEqual([`exportImage ${id}`]);

  engine.calls.length = 0;
  expect((await obtainPayload(source(), await imageOf(id), 'mini')).entrySource).toBe(payload.entrySource);
  expect(reads()).toEqual([]);
  expect(warnings).toEqual([]);
});

it('copies from a never-started container when the export cannot be read, and removes it', async () => {
  const id = engine.addImage('mini:1', miniImage({ version: '20260101-000000' }));
  engine.exportImage = async () => {
    throw Object.assign(new Error('(HTTP code 500) server error - export failed '), { statusCode: 500 });
  };
  const payload = await obtainPayload(source(), await imageOf(id), 'mini');
  expect(payload.manifest.kind).toBe('mini');
  expect(engine.calls.filter((line) => /Container/.test(line))).toEqual([
    `listContainers ${EXTRACTION_LABEL}`,
    `createContainer ${id}`,
    // Manifest first, then the file it names: nothing else in the image is read.
    'copyFromContainer container-1 /run-docker/manifest.json',
    'copyFromContainer container-1 /run-docker/run.js',
    'removeContainer container-1',
  ]);
  expect(engine.containers.size).toBe(0);
  expect(debug).toEqual([
    expect.stringMatching(
      /^reading the export of "sha256:[0-9a-f]+" failed \(\(HTTP code 500\) server error - export failed \); copying from a container$/,
    ),
  ]);
});

it('copies a large image from a container without reading its export', async () => {
  const id = engine.addImage('mini:1', miniImage({ version: '20260101-000000', size: 200 * 1024 * 1024 }));
  await obtainPayload(source(), await imageOf(id), 'mini');
  expect(reads()).toEqual([
    `createContainer ${id}`,
    'copyFromContainer container-1 /run-docker/manifest.json',
    'copyFromContainer container-1 /run-docker/run.js',
  ]);
  expect(engine.containers.size).toBe(0);
});

it('sweeps extraction containers a killed shim on this host left, and only those', async () => {
  const id = engine.addImage('mini:1', miniImage({ version: '20260101-000000', size: 200 * 1024 * 1024 }));
  const host = hostname();
  const orphan = await engine.createContainer({
    image: id,
    command: ['/x'],
    labels: { [EXTRACTION_LABEL]: `${host}:999999999` },
  });
  const elsewhere = await engine.createContainer({
    image: id,
    command: ['/x'],
    labels: { [EXTRACTION_LABEL]: `another-host:1` },
  });
  await obtainPayload(source(), await imageOf(id), 'mini');
  expect([...engine.containers.keys()]).toEqual([elsewhere]);
  expect(engine.calls).toContain(`removeContainer ${orphan}`);
});

it('extracts again, with one warning, when the cached entry was changed', async () => {
  const id = engine.addImage('mini:1', miniImage({ version: '20260101-000000' }));
  const first = await obtainPayload(source(), await imageOf(id), 'mini');
  await writeFile(first.entryPath, 'exports.main = async () => 0; // planted');
  engine.calls.length = 0;
  const again = await obtainPayload(source(), await imageOf(id), 'mini');
  expect(again.entrySource).toBe(first.entrySource);
  expect(await readFile(first.entryPath, 'utf8')).toBe(first.entrySource);
  expect(reads()).toEqual([`exportImage ${id}`]);
  expect(warnings).toEqual([
    `the cached payload in "${payloadCacheDir(cacheRoot, id)}" was rejected (its entry "run.js" does not match the manifest's sha256); extracting it again from its image`,
  ]);
});

it('verifies in memory, writing nothing, without a trusted cache', async () => {
  const id = engine.addImage('mini:1', miniImage({ version: '20260101-000000' }));
  const payload = await obtainPayload(source({ cacheRoot: undefined }), await imageOf(id), 'mini');
  expect(payload.entryPath).toBe(`/run-docker/${id.replace('sha256:', '')}/run.js`);
  await expect(readFile(join(cacheRoot, 'payloads'))).rejects.toMatchObject({ code: 'ENOENT' });
});

describe('refuses', () => {
  async function rejection(promise: Promise<unknown>): Promise<PayloadRejected> {
    const error = await promise.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    if (!(error instanceof PayloadRejected)) throw new Error(`expected a PayloadRejected, got ${String(error)}`);
    return error;
  }

  it('an image without the manifest label, reading nothing', async () => {
    const id = engine.addImage('busybox:1', { files: { '/bin/sh': 'x' } });
    const error = await rejection(obtainPayload(source(), await imageOf(id), 'mini'));
    expect({ reason: error.reason, message: error.message }).toEqual({
      reason: 'corrupt',
      message: `it has no "${LABEL.manifestSha256}" label: not a run-docker image`,
    });
    expect(reads()).toEqual([]);
  });

  it('an image whose entry was changed after its manifest was made', async () => {
    const id = engine.addImage(
      'mini:1',
      miniImage({ version: '20260101-000000', tamperedEntry: 'exports.main = async () => 1;' }),
    );
    const error = await rejection(obtainPayload(source(), await imageOf(id), 'mini'));
    expect({ reason: error.reason, message: error.message }).toEqual({
      reason: 'corrupt',
      message: `its entry "run.js" does not match the manifest's sha256`,
    });
  });

  it('a payload for other shims, and keeps it cached so the next call extracts nothing', async () => {
    const id = engine.addImage('mini:1', miniImage({ version: '20260101-000000', shim: '>=2.0.0' }));
    const error = await rejection(obtainPayload(source(), await imageOf(id), 'mini'));
    expect({ reason: error.reason, message: error.message }).toEqual({
      reason: 'incompatible',
      message: 'it needs shim >=2.0.0 and this shim is 1.0.0',
    });
    engine.calls.length = 0;
    expect((await rejection(obtainPayload(source(), await imageOf(id), 'mini'))).reason).toBe('incompatible');
    expect(reads()).toEqual([]);
  });

  it('a tiny where a mini is wanted', async () => {
    const id = engine.addImage('mini:1', miniImage({ version: '20260101-000000' }));
    expect((await rejection(obtainPayload(source(), await imageOf(id), 'tiny'))).message).toBe(
      'it is a "mini" payload, not "tiny"',
    );
  });
});

describe('verification records (shim/verified-record.ts)', () => {
  // A file counts as settled a second after its last change: the clock moves on instead of the test waiting.
  const settle = () => {
    const now = Date.now() + 5_000;
    jest.spyOn(Date, 'now').mockReturnValue(now);
  };
  // node:crypto is loaded where used (common/lazy-builtins.ts): its one module object is what the shim calls.
  const crypto = jest.requireActual<typeof import('node:crypto')>('node:crypto');
  afterEach(() => jest.restoreAllMocks());

  it('hashes a cached payload until its files have settled, then not again until one of them is written', async () => {
    const id = engine.addImage('mini:1', miniImage({ version: '20260101-000000' }));
    const extracted = await obtainPayload(source(), await imageOf(id), 'mini');
    const hashes = jest.spyOn(crypto, 'createHash');

    // Just written: hashed, and not recorded (a write in the same clock tick would not show).
    await obtainPayload(source(), await imageOf(id), 'mini');
    expect(hashes).toHaveBeenCalledTimes(2);
    settle();
    hashes.mockClear();
    await obtainPayload(source(), await imageOf(id), 'mini');
    expect(hashes).toHaveBeenCalledTimes(2);
    const record = JSON.parse(await readFile(verifiedRecordPath(cacheRoot, id), 'utf8')) as {
      files: Record<string, string>;
    };
    expect(Object.keys(record.files).sort()).toEqual(['manifest.json', 'run.js']);

    hashes.mockClear();
    const warm = await obtainPayload(source(), await imageOf(id), 'mini');
    expect(hashes).not.toHaveBeenCalled();
    expect(warm.entrySource).toBe(extracted.entrySource);
    expect(reads()).toEqual([`exportImage ${id}`]);

    // Written in place, to the same length: another ctime, so hashed again, rejected, extracted again.
    await writeFile(warm.entryPath, extracted.entrySource.replace('ran mini', 'RAN MINI'));
    const again = await obtainPayload(source(), await imageOf(id), 'mini');
    expect(again.entrySource).toBe(extracted.entrySource);
    expect(warnings).toEqual([
      `the cached payload in "${payloadCacheDir(cacheRoot, id)}" was rejected (its entry "run.js" does not match the manifest's sha256); extracting it again from its image`,
    ]);
    expect(reads()).toEqual([`exportImage ${id}`, `exportImage ${id}`]);
  });

  it('checks everything again when the record is damaged, and refuses a manifest changed behind its record', async () => {
    const id = engine.addImage('mini:1', miniImage({ version: '20260101-000000' }));
    await obtainPayload(source(), await imageOf(id), 'mini');
    settle();
    await obtainPayload(source(), await imageOf(id), 'mini');
    await writeFile(verifiedRecordPath(cacheRoot, id), '{"files": [');
    const hashes = jest.spyOn(crypto, 'createHash');
    await obtainPayload(source(), await imageOf(id), 'mini');
    expect(hashes).toHaveBeenCalledTimes(2);

    const manifestFile = join(payloadCacheDir(cacheRoot, id), 'manifest.json');
    const manifest = await readFile(manifestFile, 'utf8');
    await writeFile(manifestFile, manifest.replace('20260101-000000', '20990101-000000'));
    const again = await obtainPayload(source(), await imageOf(id), 'mini');
    expect(again.manifest.version).toBe('20260101-000000');
    expect(warnings).toEqual([
      `the cached payload in "${payloadCacheDir(cacheRoot, id)}" was rejected (its manifest does not match the digest in the image label); extracting it again from its image`,
    ]);
  });
});

describe('hostile images (docs/trust.md, "endless data")', () => {
  const sha256 = (bytes: Buffer) => crypto.createHash('sha256').update(bytes).digest('hex');
  const crypto = jest.requireActual<typeof import('node:crypto')>('node:crypto');

  /** An unsigned mini whose label matches its manifest, naming `entry` with the right sha256: everything checks but the size. */
  function honestLookingMini(entry: Buffer, options: { size?: number; extra?: Record<string, Buffer> } = {}) {
    const manifest = Buffer.from(
      JSON.stringify({
        contract: 2,
        kind: 'mini',
        version: '20260101-000000',
        entry: 'run.js',
        sha256: sha256(entry),
        shim: '>=0.0.0',
        signature: null,
      }),
    );
    return {
      labels: { [LABEL.manifestSha256]: sha256(manifest) },
      files: { '/run-docker/manifest.json': manifest, '/run-docker/run.js': entry, ...options.extra },
      ...(options.size === undefined ? {} : { size: options.size }),
    };
  }

  async function rejection(promise: Promise<unknown>): Promise<PayloadRejected> {
    const error = await promise.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    if (!(error instanceof PayloadRejected)) throw new Error(`expected a PayloadRejected, got ${String(error)}`);
    return error;
  }

  it.each([
    ['its export', undefined],
    ['a container, manifest first', 200 * 1024 * 1024],
  ])(
    'refuses an entry past 8 MiB that its manifest names (read from %s), and the next call reads nothing',
    async (_way, size) => {
      const id = engine.addImage('mini:9', honestLookingMini(Buffer.alloc(9 * 1024 * 1024, 'x'), { size }));
      const error = await rejection(obtainPayload(source(), await imageOf(id), 'mini'));
      expect({ reason: error.reason, message: error.message }).toEqual({
        reason: 'corrupt',
        message: 'its entry "run.js" is larger than 8 MiB',
      });
      expect(reads().length).toBeGreaterThan(0);
      expect(engine.containers.size).toBe(0);
      expect(JSON.parse(await readFile(refusalPath(cacheRoot, id), 'utf8'))).toEqual({
        kind: 'mini',
        shim: '1.0.0',
        reason: 'corrupt',
        message: 'its entry "run.js" is larger than 8 MiB',
      });

      engine.calls.length = 0;
      const again = await rejection(obtainPayload(source(), await imageOf(id), 'mini'));
      expect({ reason: again.reason, message: again.message }).toEqual({
        reason: error.reason,
        message: error.message,
      });
      expect(reads()).toEqual([]);
    },
  );

  it('reads a large image through a container manifest first, and nothing the manifest does not name', async () => {
    const junk = Buffer.alloc(2 * 1024 * 1024, 'j');
    const id = engine.addImage(
      'mini:9',
      honestLookingMini(Buffer.from('exports.main = async () => 0;'), {
        size: 200 * 1024 * 1024,
        extra: { '/run-docker/junk-1': junk, '/run-docker/junk-2': junk },
      }),
    );
    const payload = await obtainPayload(source(), await imageOf(id), 'mini');
    expect(payload.entrySource).toBe('exports.main = async () => 0;');
    expect(engine.calls.filter((line) => line.startsWith('copyFromContainer'))).toEqual([
      'copyFromContainer container-1 /run-docker/manifest.json',
      'copyFromContainer container-1 /run-docker/run.js',
    ]);
  });

  it.each([
    ['a manifest.json past 64 KiB', { '/run-docker/manifest.json': Buffer.alloc(1024 * 1024, ' ') }],
    [
      'a manifest.json that is a folder full of things',
      Object.fromEntries(
        Array.from({ length: 40 }, (_, index) => [`/run-docker/manifest.json/f${index}`, Buffer.alloc(4096)]),
      ),
    ],
  ])('refuses %s, read through a container, and remembers it', async (_name, files) => {
    const id = engine.addImage('mini:9', {
      labels: { [LABEL.manifestSha256]: 'a'.repeat(64) },
      files,
      size: 200 * 1024 * 1024,
    });
    const error = await rejection(obtainPayload(source(), await imageOf(id), 'mini'));
    expect({ reason: error.reason, message: error.message }).toEqual({
      reason: 'corrupt',
      message: 'its manifest.json is larger than 64 KiB',
    });
    engine.calls.length = 0;
    await rejection(obtainPayload(source(), await imageOf(id), 'mini'));
    expect(reads()).toEqual([]);
  });

  /** A small mini that is refused for its own bytes: its entry was changed after signing. */
  const tampered = () => miniImage({ version: '20260101-000000', tamperedEntry: 'exports.main = async () => 1;' });

  it('decides again under another shim version, and for another kind', async () => {
    const id = engine.addImage('mini:9', tampered());
    await rejection(obtainPayload(source(), await imageOf(id), 'mini'));
    engine.calls.length = 0;
    await rejection(obtainPayload(source({ shimVersion: '1.1.0' }), await imageOf(id), 'mini'));
    expect(reads()).toEqual([`exportImage ${id}`]);
    engine.calls.length = 0;
    expect((await rejection(obtainPayload(source(), await imageOf(id), 'tiny'))).message).toBe(
      'it is a "mini" payload, not "tiny"',
    );
    expect(reads()).toEqual([`exportImage ${id}`]);
  });

  it('remembers nothing an engine failure decided, and nothing without a trusted cache', async () => {
    const id = engine.addImage('mini:9', honestLookingMini(Buffer.alloc(9 * 1024 * 1024)));
    const broken = Object.assign(new Error('(HTTP code 500) server error - disk full '), { statusCode: 500 });
    // The same images on an engine whose every read fails, as a full disk makes it.
    const failing = {
      ...engine,
      exportImage: async () => Promise.reject(broken),
      createContainer: async () => Promise.reject(broken),
    };
    await expect(obtainPayload(source({ engine: failing }), await imageOf(id), 'mini')).rejects.toBe(broken);
    await rejection(obtainPayload(source({ cacheRoot: undefined }), await imageOf(id), 'mini'));
    await expect(readFile(refusalPath(cacheRoot, id))).rejects.toMatchObject({ code: 'ENOENT' });
    // A good image is never refused from the record: only its own verdict is ever written.
    const good = engine.addImage('mini:1', miniImage({ version: '20260101-000000' }));
    expect((await obtainPayload(source(), await imageOf(good), 'mini')).manifest.version).toBe('20260101-000000');
    await expect(readFile(refusalPath(cacheRoot, good))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('runs a mini whose build entry is past 8 MiB, and refuses only build-docker, in one line', async () => {
    const entry = Buffer.from('exports.main = async () => 0;');
    const build = Buffer.alloc(9 * 1024 * 1024, 'b');
    const manifest = Buffer.from(
      JSON.stringify({
        contract: 2,
        kind: 'mini',
        version: '20260101-000000',
        entry: 'run.js',
        sha256: sha256(entry),
        shim: '>=0.0.0',
        signature: null,
        build: { entry: 'build.js', sha256: sha256(build), signature: null },
      }),
    );
    const id = engine.addImage('mini:1', {
      labels: { [LABEL.manifestSha256]: sha256(manifest) },
      files: { '/run-docker/manifest.json': manifest, '/run-docker/run.js': entry, '/run-docker/build.js': build },
    });
    const image = await imageOf(id);
    const payload = await obtainPayload(source(), image, 'mini');
    expect({ entry: payload.entrySource, build: payload.build }).toEqual({ entry: entry.toString(), build: undefined });
    const shimSource = { ...source(), pull: async () => undefined };
    const ref = { registry: 'registry.test', path: 'rd/mini', tag: '20260101-000000' };
    await expect(
      obtainBuildEntry(shimSource, { keys: [], allowUnsigned: true }, image, ref, payload),
    ).rejects.toMatchObject({
      name: 'RunDockerError',
      message:
        'the build payload of the mini "registry.test/rd/mini:20260101-000000" cannot be used: its build entry "build.js" is larger than 8 MiB',
    });
  });

  it('takes a container removed by someone else meanwhile for what it is, not for an image without a manifest', async () => {
    const id = engine.addImage('mini:1', miniImage({ version: '20260101-000000', size: 200 * 1024 * 1024 }));
    const racing = {
      ...engine,
      copyFromContainer: async (container: string, path: string) => {
        await engine.removeContainer(container);
        return engine.copyFromContainer(container, path);
      },
    };
    const failure = (await obtainPayload(source({ engine: racing }), await imageOf(id), 'mini').then(
      () => ({}),
      (error: unknown) => error,
    )) as { statusCode?: number; message?: string };
    expect(failure.statusCode).toBe(404);
    expect(failure.message).toMatch(/No such container/);
    await expect(readFile(refusalPath(cacheRoot, id))).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await obtainPayload(source(), await imageOf(id), 'mini')).manifest.version).toBe('20260101-000000');
  });

  it('ignores a record that is not well-formed, and keeps the folder within its bound', async () => {
    const id = engine.addImage('mini:9', tampered());
    await mkdir(join(cacheRoot, REFUSED_FOLDER), { recursive: true });
    await writeFile(
      refusalPath(cacheRoot, id),
      '{"kind": "mini", "shim": "1.0.0", "reason": "untrusted", "message": "x"}',
    );
    await rejection(obtainPayload(source(), await imageOf(id), 'mini'));
    expect(reads()).toEqual([`exportImage ${id}`]);
    expect(JSON.parse(await readFile(refusalPath(cacheRoot, id), 'utf8'))).toMatchObject({ reason: 'corrupt' });

    for (let index = 0; index < MAX_REFUSALS + 10; index++)
      await writeFile(join(cacheRoot, REFUSED_FOLDER, `${String(index).padStart(64, '0')}.json`), '{}');
    const another = engine.addImage(
      'mini:8',
      miniImage({ version: '20260102-000000', tamperedEntry: 'exports.main = async () => 2;' }),
    );
    await rejection(obtainPayload(source(), await imageOf(another), 'mini'));
    const kept = await readdir(join(cacheRoot, REFUSED_FOLDER));
    expect(kept).toHaveLength(MAX_REFUSALS);
    expect(kept).toContain(`${another.replace('sha256:', '')}.json`);
  });
});
