// Bundles the shim and both payloads into self-contained CommonJS files under dist/.
// Usage: node scripts/build.mjs
// Env at build time: RUN_DOCKER_DEFAULT_TINY / RUN_DOCKER_DEFAULT_MINI bake a host's
// defaults into the shim (normally tiny pinned by digest), see docs/configuration.md.
import { build, buildSync } from 'esbuild';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const emptyModule = join(root, 'scripts', 'empty-module.cjs');

/** docker-modem's ssh agent is loaded on first use only (scripts/lazy-ssh.cjs). */
const lazySsh = {
  name: 'lazy-ssh',
  setup(build) {
    build.onResolve({ filter: /^\.\/ssh$/ }, (args) =>
      args.importer.endsWith(join('docker-modem', 'lib', 'modem.js')) ? { path: join(root, 'scripts', 'lazy-ssh.cjs') } : undefined,
    );
  },
};

/**
 * log-update (pull progress) is bundled as a string and compiled on its first use. An
 * `import()` alone only defers evaluation: V8 still pre-parses ~40 kB of it (log-update,
 * wrap-ansi, slice-ansi, string-width, …) on every start, ~4 ms per bundle here; a string
 * literal costs ~0.1 ms. The string is part of the bundle, so it is verified with it.
 */
const lazyLogUpdate = {
  name: 'lazy-log-update',
  setup(build) {
    build.onResolve({ filter: /^log-update$/ }, () => ({ path: 'log-update', namespace: 'lazy-log-update' }));
    build.onLoad({ filter: /.*/, namespace: 'lazy-log-update' }, () => {
      const { outputFiles } = buildSync({
        stdin: { contents: "export { createLogUpdate } from 'log-update';", resolveDir: root },
        bundle: true,
        platform: 'node',
        target: 'node20',
        format: 'cjs',
        minify: true,
        legalComments: 'none',
        write: false,
      });
      const contents = [
        `const source = ${JSON.stringify(outputFiles[0].text)};`,
        'let loaded;',
        'exports.createLogUpdate = (...args) => {',
        "  if (!loaded) { loaded = { exports: {} }; new Function('module', 'exports', 'require', source)(loaded, loaded.exports, require); }",
        '  return loaded.exports.createLogUpdate(...args);',
        '};',
      ].join('\n');
      return { contents, loader: 'js' };
    });
  },
};

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
  // ssh2's optional native addons: it falls back to pure JS when they are missing.
  external: ['cpu-features', '*.node'],
  // dockerode loads gRPC at start-up for BuildKit sessions, which run-docker never opens.
  alias: { '@grpc/grpc-js': emptyModule, '@grpc/proto-loader': emptyModule },
  plugins: [lazySsh, lazyLogUpdate],
};

await Promise.all([
  build({
    ...common,
    entryPoints: [join(root, 'shim/main.ts')],
    outfile: join(root, 'dist/shim/run-docker.js'),
    banner: { js: '#!/usr/bin/env node' },
    define: {
      SHIM_VERSION: JSON.stringify(version),
      DEFAULT_TINY: JSON.stringify(process.env.RUN_DOCKER_DEFAULT_TINY || `localhost:5000/run-docker/tiny:${version}`),
      DEFAULT_MINI: JSON.stringify(process.env.RUN_DOCKER_DEFAULT_MINI || 'localhost:5000/run-docker/mini'),
    },
  }),
  build({ ...common, entryPoints: [join(root, 'payload/locate/main.ts')], outfile: join(root, 'dist/payload/tiny/locate.js') }),
  // For scripts/publish: what a signature covers is defined once, in the contract.
  build({ ...common, entryPoints: [join(root, 'contract/contract.ts')], outfile: join(root, 'dist/contract.js') }),
  build({
    ...common,
    entryPoints: [join(root, 'payload/run/main.ts')],
    outfile: join(root, 'dist/payload/mini/run.js'),
    define: { PAYLOAD_PACKAGE_VERSION: JSON.stringify(version) },
  }),
]);

// The shim is a command (npm links it; the tiny image ships it for copying straight into PATH).
chmodSync(join(root, 'dist/shim/run-docker.js'), 0o755);

// What scripts/publish needs to know about this build.
const contract = Number(/export const CONTRACT_VERSION = (\d+);/.exec(readFileSync(join(root, 'contract/contract.ts'), 'utf8'))[1]);
writeFileSync(join(root, 'dist/build-info.json'), `${JSON.stringify({ version, contract }, null, 2)}\n`);
