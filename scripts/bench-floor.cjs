// @ts-check
// The floor of a warm `--local --dry-run` (scripts/benchmark.mjs, row "floor"): only the
// mechanisms such a call cannot do without, with none of its decisions. As `node THIS`:
//   1. Node reads and compiles the installed shim as its main module (the loader, with the
//      bundle and its strings on comment lines), here with vm.compileFunction as Node's
//      CommonJS loader does;
//   2. the bundle, the tiny's and the mini's payloads compiled from their V8 code caches
//      (shim/code-cache.ts) as the shim compiles them, not run: running the bundle is the call;
//   3. node:net loaded, and the call's two questions to the engine, at once over two
//      connections: the pinned tiny by its digest, and the events since the mark of the
//      image index (engine-images.json), as the shim asks them.
// It reads the cache of a home where warm calls have run: exactly one code cache of each
// kind, and fails if V8 refuses one (a floor compiled from source would be no floor).
'use strict';
const { readdirSync, readFileSync } = require('node:fs');
const { join } = require('node:path');
const { compileFunction, Script } = require('node:vm');

const [shimFile, cacheRoot, tinyRef, socketPath = '/var/run/docker.sock'] = process.argv.slice(2);
if (!shimFile || !cacheRoot || !tinyRef)
  throw new Error('usage: node bench-floor.cjs INSTALLED_SHIM CACHE_ROOT TINY_REF [ENGINE_SOCKET]');

/** @param {string} prefix */
const codeCache = (prefix) => {
  const names = readdirSync(join(cacheRoot, 'code')).filter((name) => name.startsWith(`${prefix}-`));
  if (names.length !== 1)
    throw new Error(`expected one ${prefix} code cache in ${cacheRoot}/code, found ${names.length}`);
  return readFileSync(join(cacheRoot, 'code', names[0] ?? ''));
};
/** @param {string} entry the payload's file name in the payload cache */
const payloadSource = (entry) => {
  const dirs = readdirSync(join(cacheRoot, 'payloads')).filter((dir) =>
    readdirSync(join(cacheRoot, 'payloads', dir)).includes(entry),
  );
  if (dirs.length !== 1) throw new Error(`expected one cached payload with ${entry}, found ${dirs.length}`);
  return readFileSync(join(cacheRoot, 'payloads', dirs[0] ?? '', entry), 'utf8');
};
/** @param {string} what @param {string} source @param {Buffer} cachedData */
const compileCached = (what, source, cachedData) => {
  const script = new Script(source, { filename: what, cachedData });
  if (script.cachedDataRejected)
    throw new Error(`V8 refused the ${what} code cache: the floor would compile from source`);
};

// 1. As Node loads a main module: the whole file, compiled in its wrapper (not run).
const installed = readFileSync(shimFile, 'utf8');
compileFunction(installed.replace(/^#!.*/, ''), ['exports', 'require', 'module', '__filename', '__dirname'], {
  filename: shimFile,
});
// 2. The bundle from its line (shim/installed-shim.ts), and both payloads in the wrapper
//    shim/compile-payload.ts gives them.
const bundleLine = installed.split('\n').find((line) => line.startsWith('//(function (exports, require, module'));
if (bundleLine === undefined) throw new Error(`no bundle line in ${shimFile}`);
compileCached('shim', bundleLine.slice(2), codeCache('shim'));
/** @param {string} source */
const payloadWrapper = (source) => `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
compileCached('tiny', payloadWrapper(payloadSource('locate.js')), codeCache('tiny'));
compileCached('mini', payloadWrapper(payloadSource('run.js')), codeCache('mini'));

// 3. The engine's two answers.
const { connect } = require('node:net');
/** @param {string} path @returns {Promise<void>} */
const get = (path) =>
  new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    socket.on('connect', () => socket.end(`GET ${path} HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n`));
    socket.on('data', () => {});
    socket.on('error', reject);
    socket.on('close', () => resolve());
  });
/** @type {{ engines: Record<string, { mark?: { timeNano: string } }> }} */
const index = JSON.parse(readFileSync(join(cacheRoot, 'engine-images.json'), 'utf8'));
const timeNano = index.engines[socketPath]?.mark?.timeNano;
if (timeNano === undefined) throw new Error(`no image index mark for ${socketPath} in ${cacheRoot}`);
/** As common/engine/image-index.ts writes engine times: seconds.nanoseconds. @param {string} nanos */
const engineTime = (nanos) => `${nanos.slice(0, -9)}.${nanos.slice(-9)}`;
const until = engineTime(`${Date.now()}000000`);
Promise.all([get(`/images/${tinyRef}/json`), get(`/events?since=${engineTime(timeNano)}&until=${until}`)]).catch(
  (/** @type {Error} */ error) => {
    process.stderr.write(`bench-floor: ${error.message}\n`);
    process.exitCode = 1;
  },
);
