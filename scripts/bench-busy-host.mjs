// @ts-check
// Extra local images for the busy-host rows of scripts/benchmark (--busy-host, issue 24
// item 1): a developer's engine holds hundreds of images, and the shim's warm path lists
// them all. COUNT distinct images (one config each, all on one shared 1-file layer) are
// loaded with one `docker load` of a docker-save archive, each in a repository of its own
// named after PREFIX, and removed again by their tags.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sh } from './bench-setup.mjs';

/** Pure: a tar archive (ustar) of one regular file, as a layer. @param {string} name @param {Buffer} body */
export function tarOfOneFile(name, body) {
  const header = Buffer.alloc(512);
  header.write(name, 0, 100, 'utf8');
  header.write('0000644\0', 100); // mode
  header.write('0000000\0', 108); // uid
  header.write('0000000\0', 116); // gid
  header.write(`${body.length.toString(8).padStart(11, '0')}\0`, 124);
  header.write('00000000000\0', 136); // mtime
  header.write('        ', 148); // checksum, counted as spaces
  header.write('0', 156); // regular file
  header.write('ustar\0' + '00', 257);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  const padding = Buffer.alloc((512 - (body.length % 512)) % 512);
  return Buffer.concat([header, body, padding, Buffer.alloc(1024)]);
}

/**
 * Loads COUNT images named `PREFIX-<i>:busy` into the engine; returns their names.
 * @param {string} dir an empty working folder
 * @param {string} prefix a repository name prefix unique to this run
 * @param {number} count
 */
export function loadBusyImages(dir, prefix, count) {
  mkdirSync(join(dir, 'layer'), { recursive: true });
  const layer = tarOfOneFile('busy', Buffer.from('an image that only fills the list\n'));
  writeFileSync(join(dir, 'layer', 'layer.tar'), layer);
  const diffId = `sha256:${createHash('sha256').update(layer).digest('hex')}`;
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  /** @type {string[]} */
  const names = [];
  const manifest = [];
  for (let i = 0; i < count; i++) {
    // A label of its own makes each config, and so each image ID, distinct.
    const config = JSON.stringify({
      architecture: arch,
      os: 'linux',
      config: { Labels: { 'run-docker-bench-busy': `${prefix}-${i}` } },
      rootfs: { type: 'layers', diff_ids: [diffId] },
    });
    const file = `${createHash('sha256').update(config).digest('hex')}.json`;
    writeFileSync(join(dir, file), config);
    const name = `${prefix}-${i}:busy`;
    names.push(name);
    manifest.push({ Config: file, RepoTags: [name], Layers: ['layer/layer.tar'] });
  }
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  const archive = join(dir, '..', `${prefix.replace(/\W/g, '-')}.tar`);
  sh('tar', ['-cf', archive, '-C', dir, '.']);
  sh('docker', ['load', '--quiet', '--input', archive]);
  return names;
}

/** Removes images by name, in batches (a command line has a length limit). @param {string[]} names */
export function removeBusyImages(names) {
  for (let i = 0; i < names.length; i += 200) {
    sh('docker', ['image', 'rm', '--force', ...names.slice(i, i + 200)]);
  }
}
