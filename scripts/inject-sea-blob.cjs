#!/usr/bin/env node
// Usage: node scripts/inject-sea-blob.cjs NODE_BINARY BLOB OUTPUT
//
// Writes OUTPUT: the Linux x64 Node.js binary NODE_BINARY (a non-PIE ELF executable, as
// the official builds are) carrying BLOB (from `node --experimental-sea-config`) as a
// single executable application. What Node.js looks for, and what postject would write:
//   - an ELF note named NODE_SEA_BLOB whose descriptor is the blob, in memory, found
//     through a PT_NOTE program header (postject-api.h walks the program headers of the
//     running executable with dl_iterate_phdr);
//   - the fuse string NODE_SEA_FUSE_<hash>:0 turned into :1.
// postject (LIEF) adds program headers for that. The official binaries have no room for
// more, so this script needs none: the note goes right after the last loaded segment
// (the writable one, whose .bss it writes out as zeros), that segment grows to cover it,
// and the binary's one PT_NOTE header is pointed at it. The notes that header named
// (build ID, ABI tag) are not needed to run a main executable. The section headers, which
// sat after that segment and are not needed to run either, are left out (as `sstrip`
// does). Refuses anything it does not recognise rather than guessing.
'use strict';
const fs = require('node:fs');

const FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2:';
const NOTE_NAME = 'NODE_SEA_BLOB';
const PT_LOAD = 1;
const PT_NOTE = 4;

function fail(message) {
  process.stderr.write(`inject-sea-blob: ${message}\n`);
  process.exit(1);
}

const align = (value, to) => Math.ceil(value / to) * to;

/** The ELF note: header (namesz, descsz, type), name padded to 4, descriptor padded to 4. */
function buildNote(blob) {
  const name = Buffer.from(`${NOTE_NAME}\0`);
  const note = Buffer.alloc(12 + align(name.length, 4) + align(blob.length, 4));
  note.writeUInt32LE(name.length, 0);
  note.writeUInt32LE(blob.length, 4);
  note.writeUInt32LE(0, 8);
  name.copy(note, 12);
  blob.copy(note, 12 + align(name.length, 4));
  return note;
}

function inject(binary, blob) {
  if (binary.readUInt32BE(0) !== 0x7f454c46 || binary[4] !== 2 || binary[5] !== 1) fail('not a 64-bit little-endian ELF file');
  if (binary.readUInt16LE(16) !== 2) fail('not a non-PIE executable (ET_EXEC), as the official Linux builds are');
  const phoff = Number(binary.readBigUInt64LE(0x20));
  const phentsize = binary.readUInt16LE(0x36);
  const phnum = binary.readUInt16LE(0x38);
  const headers = Array.from({ length: phnum }, (_, index) => {
    const at = phoff + index * phentsize;
    return {
      at,
      type: binary.readUInt32LE(at),
      offset: Number(binary.readBigUInt64LE(at + 8)),
      vaddr: Number(binary.readBigUInt64LE(at + 16)),
      filesz: Number(binary.readBigUInt64LE(at + 32)),
      memsz: Number(binary.readBigUInt64LE(at + 40)),
    };
  });
  const loads = headers.filter((header) => header.type === PT_LOAD);
  const last = loads.reduce((a, b) => (b.vaddr > a.vaddr ? b : a));
  const lastFileEnd = last.offset + last.filesz;
  // Everything that runs must lie before the cut: no segment may need a byte after it.
  if (headers.some((header) => header.filesz > 0 && header.offset + header.filesz > lastFileEnd)) fail('a segment lies after the last loaded one');
  if (loads.some((header) => header !== last && header.offset + header.filesz > last.offset)) fail('the last loaded segment is not the last in the file');
  const noteHeader = headers.find((header) => header.type === PT_NOTE);
  if (!noteHeader) fail('no PT_NOTE program header to point at the blob');
  const fuseAt = binary.indexOf(`${FUSE}0`);
  if (fuseAt < 0 || binary.indexOf(`${FUSE}0`, fuseAt + 1) >= 0) fail('the SEA fuse is missing, appears twice, or was already set');

  const note = buildNote(blob);
  // The segment's .bss (memsz beyond filesz) becomes zeros in the file, then the note.
  const noteOffset = align(last.offset + last.memsz, 4);
  const noteVaddr = last.vaddr + (noteOffset - last.offset);
  const output = Buffer.alloc(noteOffset + note.length);
  binary.copy(output, 0, 0, lastFileEnd);
  note.copy(output, noteOffset);

  const size = BigInt(noteOffset + note.length - last.offset);
  output.writeBigUInt64LE(size, last.at + 32);
  output.writeBigUInt64LE(size, last.at + 40);
  output.writeBigUInt64LE(BigInt(noteOffset), noteHeader.at + 8);
  output.writeBigUInt64LE(BigInt(noteVaddr), noteHeader.at + 16);
  output.writeBigUInt64LE(BigInt(noteVaddr), noteHeader.at + 24);
  output.writeBigUInt64LE(BigInt(note.length), noteHeader.at + 32);
  output.writeBigUInt64LE(BigInt(note.length), noteHeader.at + 40);
  output.writeBigUInt64LE(4n, noteHeader.at + 48);
  // No section headers (e_shoff, e_shnum, e_shstrndx): they were after the cut.
  output.writeBigUInt64LE(0n, 0x28);
  output.writeUInt16LE(0, 0x3c);
  output.writeUInt16LE(0, 0x3e);
  output.write('1', fuseAt + FUSE.length, 'latin1');
  return output;
}

const [binaryPath, blobPath, outputPath] = process.argv.slice(2);
if (!outputPath) fail('usage: node scripts/inject-sea-blob.cjs NODE_BINARY BLOB OUTPUT');
try {
  fs.writeFileSync(outputPath, inject(fs.readFileSync(binaryPath), fs.readFileSync(blobPath)), { mode: 0o755 });
} catch (error) {
  fail(error.message.split('\n')[0]);
}
