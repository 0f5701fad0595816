// @ts-check
// Hostile "mini" images for the benchmark (scripts/benchmark --hostile) and the integration
// tests (tests/integration/hostile-minis.test.ts): the shapes of issue 19 that an attacker
// who can push to the mini repository can give an image, none of them signed. Each is made
// with `docker import` from a tar stream written here (nothing pulled, nothing on disk but
// the layer), so its bytes are exactly the ones chosen: the engine keeps a layer's original
// tar (tar-split) and `docker save` hands it back unchanged, as it does for a pulled layer.
'use strict';
const { spawn } = require('node:child_process');
const { createHash } = require('node:crypto');
const { createDeflateRaw, createGzip } = require('node:zlib');
const tar = require('tar-stream');

const LABEL = 'org.run-docker.manifest.sha256';

/** @param {Buffer} bytes */
const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

/**
 * `docker import` of the entries `write` adds to a tar stream, as `reference`, with `labels`.
 * @param {string} reference
 * @param {Record<string, string>} labels
 * @param {(pack: import('tar-stream').Pack) => Promise<void>} write
 * @returns {Promise<string>} the image ID
 */
async function importImage(reference, labels, write) {
  const changes = Object.entries(labels).flatMap(([key, value]) => ['--change', `LABEL ${key}=${value}`]);
  const child = spawn('docker', ['import', ...changes, '-', reference], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(undefined) : reject(new Error(`docker import failed: ${stderr}`)),
    );
  });
  const pack = tar.pack();
  // Compressed, as a registry serves a layer: the engine sniffs what it is given, and a tar
  // that starts with the gzip magic would be taken for gzip (the layer it stores is the tar).
  pack.pipe(createGzip({ level: 1 })).pipe(child.stdin);
  await write(pack);
  pack.finalize();
  await exited;
  return stdout.trim();
}

/**
 * Adds a file of `size` bytes of `fill`, written in 1 MiB pieces (no buffer of its size).
 * @param {import('tar-stream').Pack} pack @param {string} name @param {number} size @param {number} [fill]
 */
function addLargeFile(pack, name, size, fill = 0x20) {
  return new Promise((resolve, reject) => {
    const entry = pack.entry({ name, size }, (error) => (error ? reject(error) : resolve(undefined)));
    const block = Buffer.alloc(1024 * 1024, fill);
    let left = size;
    const write = () => {
      while (left > 0) {
        const piece = left >= block.length ? block : block.subarray(0, left);
        left -= piece.length;
        if (!entry.write(piece)) {
          entry.once('drain', write);
          return;
        }
      }
      entry.end(undefined);
    };
    write();
  });
}

/**
 * Raw deflate data that inflates to `bytes` zeros (about a thousandth of that).
 * @param {number} bytes @returns {Promise<Buffer>}
 */
function deflatedZeros(bytes) {
  return new Promise((resolve, reject) => {
    const deflate = createDeflateRaw({ level: 9 });
    /** @type {Buffer[]} */
    const chunks = [];
    deflate.on('data', (chunk) => chunks.push(chunk));
    deflate.on('end', () => resolve(Buffer.concat(chunks)));
    deflate.on('error', reject);
    const block = Buffer.alloc(1024 * 1024);
    let left = bytes;
    const write = () => {
      while (left > 0) {
        const piece = left >= block.length ? block : block.subarray(0, left);
        left -= piece.length;
        if (!deflate.write(piece)) {
          deflate.once('drain', write);
          return;
        }
      }
      deflate.end();
    };
    write();
  });
}

/**
 * A ustar header whose first bytes are a gzip header followed by a stored deflate block that
 * covers the rest of the header: to a gunzip, header and file together are one deflate
 * stream (that file's content continues it); to tar, it is a file named "\x1f\x8b\x08".
 * @param {number} size the file's size
 */
function gzipLookingHeader(size) {
  const header = Buffer.alloc(512);
  // gzip: magic, deflate, no flags, mtime 0, xfl 0, os 0 (the name ends at the first NUL).
  Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0]).copy(header, 0);
  // A stored block (not final) of the header's remaining 497 bytes: LEN, then NLEN.
  const stored = 512 - 15;
  header[10] = 0x00;
  header.writeUInt16LE(stored, 11);
  header.writeUInt16LE(~stored & 0xffff, 13);
  header.write('0000644\0', 100, 'latin1');
  header.write('0000000\0', 108, 'latin1');
  header.write('0000000\0', 116, 'latin1');
  header.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  header.write('00000000000\0', 136, 'latin1');
  header.write('        ', 148, 'latin1');
  header.write('0', 156, 'latin1');
  header.write('ustar\u000000', 257, 'latin1');
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return header;
}

/**
 * The bomb: a mini of a few kB whose layer starts with a gzip header (a valid tar for
 * the engine) and inflates to `inflatesTo` bytes when read as gzip.
 * @param {string} reference @param {{ inflatesTo: number, labels?: Record<string, string> }} options
 */
async function importGzipHeaderBomb(reference, { inflatesTo, labels = {} }) {
  const bomb = await deflatedZeros(inflatesTo);
  const padding = Buffer.alloc((512 - (bomb.length % 512)) % 512);
  // A raw header first: tar-stream would write the name as UTF-8.
  return importImage(reference, { [LABEL]: 'b'.repeat(64), ...labels }, async (pack) => {
    pack.push(Buffer.concat([gzipLookingHeader(bomb.length), bomb, padding]));
    await new Promise((resolve) => pack.entry({ name: 'run-docker/README' }, 'nothing to run here\n', resolve));
  });
}

/**
 * `count` files of `bytes` each in the payload folder (24 × 32 MiB in the issue), and no manifest.
 * @param {string} reference @param {{ count: number, bytes: number, labels?: Record<string, string> }} options
 */
async function importBigFiles(reference, { count, bytes, labels = {} }) {
  return importImage(reference, { [LABEL]: 'c'.repeat(64), ...labels }, async (pack) => {
    for (let index = 0; index < count; index++) await addLargeFile(pack, `run-docker/part-${index}.js`, bytes);
  });
}

/**
 * A manifest.json of `bytes` spaces.
 * @param {string} reference @param {{ bytes: number, labels?: Record<string, string> }} options
 */
async function importHugeManifest(reference, { bytes, labels = {} }) {
  return importImage(reference, { [LABEL]: 'd'.repeat(64), ...labels }, async (pack) => {
    await addLargeFile(pack, 'run-docker/manifest.json', bytes);
  });
}

/**
 * A manifest that matches its label and names an entry of `bytes` with the right sha256:
 * everything checks but the size (and the signature: there is none).
 * @param {string} reference @param {{ bytes: number, version?: string, labels?: Record<string, string> }} options
 */
async function importHugeEntry(reference, { bytes, version = '20991231-000000', labels = {} }) {
  const entry = Buffer.alloc(bytes, 0x20);
  const manifest = Buffer.from(
    JSON.stringify({
      contract: 2,
      kind: 'mini',
      version,
      entry: 'run.js',
      sha256: sha256(entry),
      shim: '>=0.0.0',
      signature: null,
    }),
  );
  return importImage(reference, { [LABEL]: sha256(manifest), ...labels }, async (pack) => {
    await new Promise((resolve) => pack.entry({ name: 'run-docker/manifest.json' }, manifest, resolve));
    await new Promise((resolve) => pack.entry({ name: 'run-docker/run.js' }, entry, resolve));
  });
}

/**
 * `count` empty files with names of `nameLength` characters in the payload folder: endless
 * entries, each a pax header and a header in the export.
 * @param {string} reference @param {{ count: number, nameLength: number, labels?: Record<string, string> }} options
 */
async function importEndlessEntries(reference, { count, nameLength, labels = {} }) {
  return importImage(reference, { [LABEL]: 'e'.repeat(64), ...labels }, async (pack) => {
    for (let index = 0; index < count; index++) {
      const name = `run-docker/${String(index).padStart(nameLength, 'x')}`;
      await new Promise((resolve) => pack.entry({ name }, '', resolve));
    }
  });
}

/**
 * A large image (`bytes` outside the payload folder), read through a container, whose
 * payload folder is a manifest that does not match its label.
 * @param {string} reference @param {{ bytes: number, labels?: Record<string, string> }} options
 */
async function importHugeImage(reference, { bytes, labels = {} }) {
  return importImage(reference, { [LABEL]: 'f'.repeat(64), ...labels }, async (pack) => {
    await addLargeFile(pack, 'data/blob', bytes);
    await new Promise((resolve) => pack.entry({ name: 'run-docker/manifest.json' }, '{}', resolve));
  });
}

module.exports = {
  importGzipHeaderBomb,
  importBigFiles,
  importHugeManifest,
  importHugeEntry,
  importEndlessEntries,
  importHugeImage,
};
