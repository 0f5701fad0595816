#!/usr/bin/env node
// @ts-check
// Installs the shim from a tiny image, for hosts without npm:
//
//   scripts/install-shim --from-image REF [--prefix DIR]
//
// tiny is FROM scratch (no shell, nothing to run), so the file is copied out of a container
// that is created and never started: docker create, docker cp, docker rm. The container
// is removed even when the copy fails or the script is interrupted. The shim lands in
// DIR/bin/run-docker (default /usr/local), written beside it and renamed into place, so
// a failed install never leaves half a file where a working one was. DIR/bin/build-docker
// is a link to it: the same shim, started under that name, runs build-docker.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

// SHIM_DIR in contract/contract.ts (docs/contract.md): where tiny carries the shim's bundle.
const SHIM_IN_IMAGE = '/run-docker-shim/run-docker.js';
const USAGE = 'usage: scripts/install-shim --from-image REF [--prefix DIR]';

/** @param {string} message @returns {never} */
function fail(message, code = 2) {
  process.stderr.write(`install-shim: ${message}\n`);
  process.exit(code);
}

/** @param {string[]} argv */
function parseArgs(argv) {
  /** @type {{ prefix: string, image?: string }} */
  const options = { prefix: '/usr/local' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => argv[++i] ?? fail(`${arg} needs a value\n${USAGE}`);
    if (arg === '--from-image') options.image = value();
    else if (arg === '--prefix') options.prefix = value();
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else fail(`unknown argument "${arg}"\n${USAGE}`);
  }
  if (!options.image) return fail(`--from-image is required\n${USAGE}`);
  return { ...options, image: options.image };
}

/** The docker CLI without a shell; its stderr is shown only when it fails. */
/** @param {string[]} args */
function docker(args) {
  try {
    return execFileSync('docker', args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' }).trim();
  } catch (error) {
    const failure = /** @type {Error & { stderr?: string }} */ (error);
    const detail = (failure.stderr ?? '').trim().split('\n').pop() || failure.message.split('\n')[0];
    throw new Error(`docker ${args[0]} failed: ${detail}`);
  }
}

/** DIR/bin/build-docker → run-docker (relative, so the prefix can move), replaced atomically too.
 *  @param {string} binDir */
function linkBuildDocker(binDir) {
  const link = path.join(binDir, 'build-docker');
  const incoming = path.join(binDir, `.build-docker.${process.pid}.new`);
  fs.rmSync(incoming, { force: true });
  fs.symlinkSync('run-docker', incoming);
  fs.renameSync(incoming, link);
}

function main() {
  const options = parseArgs(process.argv.slice(2));
  const binDir = path.join(path.resolve(options.prefix), 'bin');
  const target = path.join(binDir, 'run-docker');
  const incoming = path.join(binDir, `.run-docker.${process.pid}.new`);
  fs.mkdirSync(binDir, { recursive: true });

  // With a listener, Ctrl-C does not end this process at once: the docker child gets it,
  // execFileSync throws, and the finally below removes the container.
  let interrupted = false;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => (interrupted = true));

  // A placeholder command: an image without CMD cannot be created otherwise; it never runs.
  const id = docker(['create', '--label', 'org.run-docker.install=1', options.image, '/not-started']);
  try {
    docker(['cp', `${id}:${SHIM_IN_IMAGE}`, incoming]);
    const head = fs.readFileSync(incoming, 'utf8').slice(0, 64);
    if (!head.startsWith('#!/usr/bin/env node'))
      throw new Error(`"${SHIM_IN_IMAGE}" in "${options.image}" is not the shim`);
    fs.chmodSync(incoming, 0o755);
    fs.renameSync(incoming, target);
    linkBuildDocker(binDir);
  } finally {
    fs.rmSync(incoming, { force: true });
    try {
      docker(['rm', '--force', id]);
    } catch (error) {
      process.stderr.write(
        `install-shim: warning: ${String(error instanceof Error ? error.message : error)}; remove the container ${id.slice(0, 12)} yourself\n`,
      );
    }
  }
  if (interrupted) fail('interrupted', 130);
  process.stdout.write(`${target}\n`);
}

try {
  main();
} catch (error) {
  fail(String(error instanceof Error ? error.message : error).split('\n')[0] ?? '', 1);
}
