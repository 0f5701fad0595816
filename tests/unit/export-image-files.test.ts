/**
 * Reading a payload folder out of an image's export (shim/export-image-files.ts), on
 * exports built here byte for byte: docker's own layout and OCI's, plain and gzip layers,
 * and the hostile shapes an unverified image can take. Every bound is hit for real: the
 * streams are real, only the engine is left out (it only hands the bytes over; the
 * integration tests read real exports: delivery, faults, hostile-minis).
 */
import { Readable } from 'node:stream';
import { createGzip, gzipSync } from 'node:zlib';
import { pack as packTarStream } from 'tar-stream';
import type { EngineClient } from '../../contract/contract';
import { readTarFiles, walkTar } from '../../common/read-tar-files';
import { PayloadRejected } from '../../shim/verify-payload';
import {
  EXPORT_BOUNDS,
  ExportUnreadable,
  exportPayloadFiles,
  isTarHeader,
  OVERSIZED,
} from '../../shim/export-image-files';

type Entries = Array<[string, Buffer | string]>;

/** A tar archive of `entries` (regular files), as the engine writes them. */
function tarOf(entries: Entries): Promise<Buffer> {
  const pack = packTarStream();
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    pack.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
    pack.on('end', () => resolve(Buffer.concat(chunks)));
    pack.on('error', reject);
  });
  for (const [name, bytes] of entries) pack.entry({ name }, Buffer.from(bytes));
  pack.finalize();
  return done;
}

/** An engine whose export is `bytes` (or a stream), and what became of that stream. */
function engineExporting(source: Buffer | Readable): { engine: EngineClient; stream: Readable } {
  const stream = Buffer.isBuffer(source) ? Readable.from([source]) : source;
  return { engine: { exportImage: async () => stream } as Partial<EngineClient> as EngineClient, stream };
}

/** docker's own export: `<n>/layer.tar` per layer, in an order of their names, and manifest.json naming them in order. */
async function dockerExport(layers: Buffer[], order = layers.map((_, index) => index)): Promise<Buffer> {
  const names = layers.map((_, index) => `${String.fromCharCode(0x61 + index).repeat(8)}/layer.tar`);
  return tarOf([
    ...layers.map((layer, index): [string, Buffer] => [names[index]!, layer]),
    ['config.json', '{}'],
    ['manifest.json', JSON.stringify([{ Config: 'config.json', Layers: order.map((index) => names[index]) }])],
    ['repositories', '{}'],
  ]);
}

/** The byte bounds alone: the deadline has a test of its own, and this machine is shared. */
const UNHURRIED = { ...EXPORT_BOUNDS, deadlineMs: 60_000 };
const folderOf = async (exported: Buffer | Readable) =>
  exportPayloadFiles(engineExporting(exported).engine, 'sha256:x', '/run-docker', UNHURRIED);
const text = (folder: Map<string, Buffer | typeof OVERSIZED>) =>
  Object.fromEntries([...folder].map(([name, bytes]) => [name, bytes === OVERSIZED ? bytes : bytes.toString()]));

describe('exportPayloadFiles', () => {
  it("takes the payload folder's plain files, later layers winning and whiteouts applied, in the manifest's order", async () => {
    const base = await tarOf([
      ['run-docker/manifest.json', 'old manifest'],
      ['run-docker/run.js', 'old entry'],
      ['run-docker/gone.js', 'removed later'],
      ['run-docker/sub/deep.js', 'not a plain name of the folder'],
      ['etc/passwd', 'not the payload folder'],
    ]);
    const update = await tarOf([
      ['./run-docker/run.js', 'new entry'],
      ['run-docker/.wh.gone.js', ''],
    ]);
    // The update's folder sorts first in the export; the manifest says it comes last.
    expect(text(await folderOf(await dockerExport([update, base], [1, 0])))).toEqual({
      'manifest.json': 'old manifest',
      'run.js': 'new entry',
    });
    const opaque = await tarOf([
      ['run-docker/.wh..wh..opq', ''],
      ['run-docker/only.js', 'x'],
    ]);
    expect(text(await folderOf(await dockerExport([base, opaque])))).toEqual({ 'only.js': 'x' });
  });

  it("reads OCI exports' gzip layers and skips their config and manifest blobs", async () => {
    const layer = gzipSync(await tarOf([['run-docker/manifest.json', '{}']]));
    const exported = await tarOf([
      ['blobs/sha256/aa', '{"config": true}'],
      ['blobs/sha256/bb', layer],
      ['index.json', '{}'],
      ['manifest.json', JSON.stringify([{ Config: 'blobs/sha256/aa', Layers: ['blobs/sha256/bb'] }])],
      ['oci-layout', '{}'],
    ]);
    expect(text(await folderOf(exported))).toEqual({ 'manifest.json': '{}' });
  });

  it('never inflates a plain tar whose first name starts with the gzip magic: its header checksum says tar', async () => {
    // The shape of issue 19: a layer whose first file is named "\x1f\x8b\x08…", followed by data
    // that inflates without end. gunzipSync took 2.2 GB here before.
    const bomb = await deflateBomb(64 * 1024 * 1024);
    const rest = await tarOf([['run-docker/manifest.json', '{"kind":"mini"}']]);
    const padding = Buffer.alloc((512 - (bomb.length % 512)) % 512);
    const layer = Buffer.concat([tarHeader(Buffer.from([0x1f, 0x8b, 0x08]), bomb.length), bomb, padding, rest]);
    expect(layer[0]).toBe(0x1f);
    expect(isTarHeader(layer)).toBe(true);
    expect(text(await folderOf(await dockerExport([layer])))).toEqual({ 'manifest.json': '{"kind":"mini"}' });
  });

  it('stops inflating gzip layers at their bound, and leaves the verdict to another way of reading', async () => {
    const bomb = gzipSync(await tarOf([['run-docker/filler', Buffer.alloc(EXPORT_BOUNDS.maxInflatedBytes + 1024)]]));
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const exported = await tarOf([
      ['blobs/sha256/bb', bomb],
      ['manifest.json', JSON.stringify([{ Layers: ['blobs/sha256/bb'] }])],
    ]);
    const failure = await folderOf(exported).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ExportUnreadable);
    expect((failure as Error).message).toBe('what its layers inflate to is larger than 32 MiB');
  });

  it('stops reading an export past its bound, and ends the stream', async () => {
    const endless = new Readable({
      read() {
        this.push(Buffer.alloc(1024 * 1024));
      },
    });
    const { engine, stream } = engineExporting(endless);
    const failure = await exportPayloadFiles(engine, 'sha256:x', 'run-docker', UNHURRIED).catch(
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(ExportUnreadable);
    expect(stream.destroyed).toBe(true);
    // Zeros are end-of-archive blocks to tar: the byte bound stopped it, not a parse error.
    expect((failure as Error).message).toBe('its export is larger than 32 MiB');
  });

  it('gives up on an export that does not arrive, or does not end, by its deadline', async () => {
    const bounds = { ...EXPORT_BOUNDS, deadlineMs: 100 };
    // An engine that writes the whole export to disk before it answers: the answer comes late, and is ended then.
    const late = Readable.from([await dockerExport([await tarOf([])])]);
    const slow = {
      exportImage: () => new Promise((resolve) => setTimeout(() => resolve(late), 300)),
    } as Partial<EngineClient> as EngineClient;
    const started = Date.now();
    await expect(exportPayloadFiles(slow, 'sha256:x', 'run-docker', bounds)).rejects.toMatchObject({
      name: 'ExportUnreadable',
      message: 'its export took longer than 100 ms',
    });
    expect(Date.now() - started).toBeLessThan(290);
    await new Promise((resolve) => late.once('close', resolve));
    // One that trickles: ended where it is read.
    const trickle = new Readable({ read() {} });
    trickle.push(Buffer.alloc(512));
    const { engine } = engineExporting(trickle);
    await expect(exportPayloadFiles(engine, 'sha256:x', 'run-docker', bounds)).rejects.toMatchObject({
      name: 'ExportUnreadable',
      message: 'its export took longer than 100 ms',
    });
    expect(trickle.destroyed).toBe(true);
  });

  it('marks a file past its bound without reading it, and a manifest.json past its own', async () => {
    const layer = await tarOf([
      ['run-docker/manifest.json', Buffer.alloc(EXPORT_BOUNDS.maxManifestBytes + 1, ' ')],
      ['run-docker/run.js', Buffer.alloc(EXPORT_BOUNDS.maxFileBytes + 1)],
      ['run-docker/build.js', 'small'],
    ]);
    expect(text(await folderOf(await dockerExport([layer])))).toEqual({
      'manifest.json': OVERSIZED,
      'run.js': OVERSIZED,
      'build.js': 'small',
    });
  });

  it('gives up on a payload folder of endless files, long names and all, without a verdict', async () => {
    const many: Entries = Array.from({ length: EXPORT_BOUNDS.maxKeptFiles + 1 }, (_, index) => [
      `run-docker/f${String(index).padStart(200, '0')}`,
      '',
    ]);
    const failure = await folderOf(await dockerExport([await tarOf(many)])).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ExportUnreadable);
    expect((failure as Error).message).toBe('its payload folder holds more than 64 files or 16 MiB');
  });

  it.each([
    ['no manifest.json', async () => tarOf([['aaaa/layer.tar', await tarOf([])]])],
    ['a layer it cannot read (zstd)', async () => dockerExportRaw(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0]))],
    ['a layer the manifest names and the export lacks', async () => dockerExport([await tarOf([])], [0, 1])],
    [
      'a truncated export',
      async () => (await dockerExport([await tarOf([['run-docker/a', 'x'.repeat(5000)]])])).subarray(0, 3000),
    ],
  ])('fails, and is no verdict on the image, with %s', async (_name, make) => {
    const failure = await folderOf(await make()).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(Error);
    expect(failure).not.toBeInstanceOf(PayloadRejected);
  });
});

describe('readTarFiles and walkTar', () => {
  it('keep files within their bound, name the larger ones, and stop at the archive bound', async () => {
    const archive = await tarOf([
      ['a', 'x'.repeat(10)],
      ['b', 'x'.repeat(100)],
    ]);
    const read = await readTarFiles(Readable.from([archive]), { maxArchiveBytes: 1 << 20, maxFileBytes: 50 });
    expect([...read.files.keys()]).toEqual(['a']);
    expect([...read.oversized]).toEqual(['b']);
    const source = Readable.from([archive]);
    await expect(walkTar(source, 2048, 'the archive of "/x"', () => undefined)).rejects.toMatchObject({
      name: 'ArchiveTooLarge',
      message: 'the archive of "/x" is larger than 2 KiB',
    });
    expect(source.destroyed).toBe(true);
  });
});

/** docker's export with one layer holding exactly `layer`'s bytes. */
function dockerExportRaw(layer: Buffer): Promise<Buffer> {
  return tarOf([
    ['aaaa/layer.tar', layer],
    ['manifest.json', JSON.stringify([{ Layers: ['aaaa/layer.tar'] }])],
  ]);
}

/** Deflated zeros that inflate to `bytes`: a bomb of about a thousandth of that. */
async function deflateBomb(bytes: number): Promise<Buffer> {
  const gzip = createGzip({ level: 9 });
  const chunks: Buffer[] = [];
  gzip.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise((resolve) => gzip.on('end', resolve));
  const block = Buffer.alloc(1024 * 1024);
  for (let written = 0; written < bytes; written += block.length) gzip.write(block);
  gzip.end();
  await done;
  return Buffer.concat(chunks);
}

/** A ustar header for a regular file whose name is exactly `name`'s bytes (tar-stream would write them as UTF-8). */
function tarHeader(name: Buffer, size: number): Buffer {
  const header = Buffer.alloc(512);
  name.copy(header, 0);
  header.write('0000644\0', 100, 'latin1');
  header.write('0000000\0', 108, 'latin1');
  header.write('0000000\0', 116, 'latin1');
  header.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  header.write('00000000000\0', 136, 'latin1');
  header.write('        ', 148, 'latin1');
  header.write('0', 156, 'latin1');
  header.write('ustar\0' + '00', 257, 'latin1');
  const sum = header.reduce((total, byte) => total + byte, 0);
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return header;
}
