// @ts-check
// Bundles the shim and both payloads into self-contained CommonJS files under dist/.
// Usage: node scripts/build.mjs
// Env at build time: RUN_DOCKER_DEFAULT_TINY / RUN_DOCKER_DEFAULT_MINI bake a host's
// defaults into the shim (normally tiny pinned by digest), see docs/configuration.md.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { version } = /** @type {{ version: string }} */ (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')));
/** @type {import('./third-party-notices.cjs')} */
const { buildNotices } = createRequire(import.meta.url)('./third-party-notices.cjs');

/**
 * Modules bundled as a compressed string and compiled on first use: log-update (pull
 * progress), smol-toml (project files) and tar-stream (extractions). Deferring a `require`
 * only defers evaluation: V8 still compiles every byte of a bundle when it loads it (dockerode
 * with ssh2, carried this way until every Engine API call went over node:http, made up most
 * of the shim's ~720 kB, ~34 ms of compilation on every call here); a string literal costs
 * next to nothing until it is used. The string is part of the bundle, so whatever verifies
 * the bundle verifies it too.
 * @type {Record<string, string>}
 */
const EMBEDDED = {
  'log-update': "export { createLogUpdate } from 'log-update';",
  'tar-stream': "module.exports = require('tar-stream');",
  // The project file's TOML (payload/project/parse-toml.ts): only `run-docker .` and build-docker read one.
  'smol-toml': "module.exports = require('smol-toml');",
};
/** Inputs of the modules embedded in each bundle (by its outfile): they are in the bundle too.
 *  @type {Map<string | undefined, string[]>} */
const embeddedInputs = new Map();
/** @type {import('esbuild').Plugin} */
const embedCompiledOnFirstUse = {
  name: 'embed-compiled-on-first-use',
  setup(build) {
    const outfile = build.initialOptions.outfile;
    const names = Object.keys(EMBEDDED).map((name) => name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    build.onResolve({ filter: new RegExp(`^(${names.join('|')})$`) }, (args) => ({
      path: args.path,
      namespace: 'embedded',
    }));
    build.onLoad({ filter: /.*/, namespace: 'embedded' }, async (args) => {
      const source = EMBEDDED[args.path];
      if (source === undefined) throw new Error(`"${args.path}" is not an embedded module`);
      const { outputFiles, metafile } = await build.esbuild.build({
        ...innerOptions,
        stdin: { contents: source, resolveDir: root },
        write: false,
        metafile: true,
      });
      const [output] = outputFiles;
      if (!output) throw new Error(`esbuild wrote nothing for the embedded module "${args.path}"`);
      embeddedInputs.set(outfile, [...(embeddedInputs.get(outfile) ?? []), ...Object.keys(metafile.inputs)]);
      const packed = gzipSync(output.contents, { level: 9 }).toString('base64');
      // Evaluated when first required (esbuild wraps this module lazily).
      const contents = [
        `const packed = ${JSON.stringify(packed)};`,
        "const source = require('node:zlib').gunzipSync(Buffer.from(packed, 'base64')).toString('utf8');",
        // Bundled CommonJS may use __dirname/__filename (ssh2 looks for optional native addons).
        "new Function('module', 'exports', 'require', '__filename', '__dirname', source)(module, exports, require, __filename, __dirname);",
      ].join('\n');
      return { contents, loader: 'js' };
    });
  },
};

/** @satisfies {import('esbuild').BuildOptions} */
const innerOptions = {
  bundle: true,
  platform: 'node',
  target: 'node18.20',
  format: 'cjs',
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
  // The completion scripts' templates (payload/run/completion/) are shell files, bundled as strings.
  loader: { '.bash': 'text', '.zsh': 'text' },
};
// metafile: the inputs of each bundle, for its third-party notices.
/** @satisfies {import('esbuild').BuildOptions} */
const common = { ...innerOptions, metafile: /** @type {const} */ (true), plugins: [embedCompiledOnFirstUse] };

/**
 * The shim carries the run and build payloads of its own build (shim/main.ts, docs/trust.md
 * "The built-in payload"): built first, then embedded as gzip + base64 strings that the shim
 * decompresses and compiles only when a call runs one. Resolves to their build results and
 * the defines that embed them.
 */
async function buildEmbeddedPayloads() {
  const define = { PAYLOAD_PACKAGE_VERSION: JSON.stringify(version) };
  const runBundle = join(root, 'dist/payload/mini/run.js');
  const buildBundle = join(root, 'dist/payload/mini/build.js');
  const [run, buildPayload] = await Promise.all([
    build({ ...common, entryPoints: [join(root, 'payload/run/main.ts')], outfile: runBundle, define }),
    build({ ...common, entryPoints: [join(root, 'payload/build-docker/main.ts')], outfile: buildBundle, define }),
  ]);
  /** @param {string} file */
  const embed = (file) => JSON.stringify(gzipSync(readFileSync(file), { level: 9 }).toString('base64'));
  // The sha256 names each one's code cache (shim/code-cache.ts): computed here, not on every call.
  /** @param {string} file */
  const sha256 = (file) => JSON.stringify(createHash('sha256').update(readFileSync(file)).digest('hex'));
  return {
    run,
    buildPayload,
    define: {
      BUILT_IN_RUN_PAYLOAD: embed(runBundle),
      BUILT_IN_RUN_SHA256: sha256(runBundle),
      BUILT_IN_BUILD_PAYLOAD: embed(buildBundle),
      BUILT_IN_BUILD_SHA256: sha256(buildBundle),
    },
  };
}

const [[shim, run, buildPayload], locate] = await Promise.all([
  buildEmbeddedPayloads().then(
    async ({ run, buildPayload, define: embedded }) =>
      /** @type {const} */ ([
        await build({
          ...common,
          entryPoints: [join(root, 'shim/main.ts')],
          // The bundle alone; the installed file is the loader with this bundle after it (below).
          outfile: join(root, 'dist/shim/run-docker-bundle.js'),
          // One line: the installed file carries it on a single line comment (shim/installed-shim.ts).
          supported: { 'template-literal': false },
          define: {
            SHIM_VERSION: JSON.stringify(version),
            // Unset: no default tiny or mini, and a host with nothing configured runs the built-in payload.
            DEFAULT_TINY: JSON.stringify(process.env.RUN_DOCKER_DEFAULT_TINY || ''),
            DEFAULT_MINI: JSON.stringify(process.env.RUN_DOCKER_DEFAULT_MINI || ''),
            ...embedded,
          },
        }),
        run,
        buildPayload,
      ]),
  ),
  build({
    ...common,
    entryPoints: [join(root, 'payload/locator/main.ts')],
    outfile: join(root, 'dist/payload/tiny/locate.js'),
  }),
  // For scripts/publish: what a signature covers is defined once, in the contract.
  build({ ...common, entryPoints: [join(root, 'contract/contract.ts')], outfile: join(root, 'dist/contract.js') }),
  // For scripts/publish: the engine client and the tag order (common/publish-support.ts).
  build({
    ...common,
    entryPoints: [join(root, 'common/publish-support.ts')],
    outfile: join(root, 'dist/publish-support.js'),
  }),
  // For scripts/publish: reading and verifying published minis to release on them (publish/release-support.ts).
  build({
    ...common,
    entryPoints: [join(root, 'publish/release-support.ts')],
    outfile: join(root, 'dist/release-support.js'),
  }),
  // For the step below: how the installed file carries the bundle.
  build({
    ...common,
    entryPoints: [join(root, 'shim/installed-shim.ts')],
    outfile: join(root, 'dist/shim-installed-shim.js'),
  }),
]);

// The installed shim: shim/loader.ts, then the bundle on one line comment and its large
// strings on one line each (shim/installed-shim.ts), which the loader reads by their place
// from the end of the file and compiles with a V8 code cache. Still one file to install.
const { packShimTail } = createRequire(import.meta.url)('../dist/shim-installed-shim.js');
const bundle = readFileSync(join(root, 'dist/shim/run-docker-bundle.js'), 'utf8');
/** @param {{ SHIM_BUNDLE_SHA256: string, SHIM_LAYOUT: string }} define */
const buildLoader = async (define) => {
  const { outputFiles } = await build({
    ...innerOptions,
    entryPoints: [join(root, 'shim/loader.ts')],
    write: false,
    define,
  });
  const [output] = outputFiles;
  if (!output) throw new Error('esbuild wrote nothing for shim/loader.ts');
  return `#!/usr/bin/env node\n${output.text}`;
};
/** @param {string} text */
const countLines = (text) => text.split('\n').length - 1;
// The layout's numbers do not change the loader's line count: build once to count, then for real.
const linesBefore = countLines(
  await buildLoader({
    SHIM_BUNDLE_SHA256: '""',
    SHIM_LAYOUT: JSON.stringify({ bundleLine: 0, bundleBytes: 0, blobBytes: [] }),
  }),
);
const { tail, layout, compiled } = packShimTail(bundle, linesBefore);
const head = await buildLoader({
  SHIM_BUNDLE_SHA256: JSON.stringify(createHash('sha256').update(compiled).digest('hex')),
  SHIM_LAYOUT: JSON.stringify(layout),
});
if (countLines(head) !== linesBefore)
  throw new Error("the loader's line count changed with its layout; the bundle's line numbers would be wrong");
writeFileSync(join(root, 'dist/shim/run-docker.js'), `${head}${tail}`);
// The shim is a command (npm links it; the tiny image ships it for copying straight into PATH).
chmodSync(join(root, 'dist/shim/run-docker.js'), 0o755);

// Third-party notices, one per artefact, each covering every bundle the artefact carries:
// the npm package (the shim), the tiny image (the locator and the shim) and the mini image
// (the run payload). scripts/publish copies the images' ones in; docs/publishing.md.
/** Metafile inputs are relative to the working folder (wherever the build was started); here, to the root.
 *  @param {{ metafile: import('esbuild').Metafile }} result @param {string} outfile */
const inputsOf = (result, outfile) =>
  [...Object.keys(result.metafile.inputs), ...(embeddedInputs.get(outfile) ?? [])].map((input) =>
    relative(root, resolve(input)),
  );
const ownLicence = readFileSync(join(root, 'LICENSE'), 'utf8');
const runInputs = [
  ...inputsOf(run, join(root, 'dist/payload/mini/run.js')),
  ...inputsOf(buildPayload, join(root, 'dist/payload/mini/build.js')),
];
// The shim carries the run and build payloads too (built in): its notices cover them.
const shimInputs = [...inputsOf(shim, join(root, 'dist/shim/run-docker-bundle.js')), ...runInputs];
const notices = [
  {
    file: 'dist/shim/THIRD-PARTY-NOTICES.txt',
    artefact: 'the run-docker shim (dist/shim/run-docker.js, the npm package)',
    inputs: shimInputs,
  },
  {
    file: 'dist/payload/tiny/THIRD-PARTY-NOTICES.txt',
    artefact: 'the tiny image (the locator, /run-docker/locate.js, and the shim, /run-docker-shim/run-docker.js)',
    inputs: [...inputsOf(locate, join(root, 'dist/payload/tiny/locate.js')), ...shimInputs],
  },
  {
    file: 'dist/payload/mini/THIRD-PARTY-NOTICES.txt',
    artefact: 'the mini image (the run payload, /run-docker/run.js, and the build payload, /run-docker/build.js)',
    inputs: runInputs,
  },
];
for (const { file, artefact, inputs } of notices) {
  writeFileSync(join(root, file), buildNotices({ root, inputs, artefact, version, ownLicence }).text);
}

// What scripts/publish needs to know about this build.
const contractMatch = /export const CONTRACT_VERSION = (\d+);/.exec(
  readFileSync(join(root, 'contract/contract.ts'), 'utf8'),
);
if (!contractMatch) throw new Error('contract/contract.ts has no CONTRACT_VERSION');
const contract = Number(contractMatch[1]);
writeFileSync(join(root, 'dist/build-info.json'), `${JSON.stringify({ version, contract }, null, 2)}\n`);
