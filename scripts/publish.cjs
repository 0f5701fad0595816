#!/usr/bin/env node
// @ts-check
// Builds and pushes a tiny or mini image; the last line of output is `REPO@sha256:…`.
//
//   scripts/publish tiny --repo R --trust-key PUB.pem [--trust-key PUB2.pem …] [options]
//   scripts/publish mini --repo R [--signing-key KEY.pem] [--rollout SCHEDULE] [--from VERSION] [options]
//   scripts/publish halt VERSION --repo R --signing-key KEY.pem [options]
//   scripts/publish rotate-key --repo R --signing-key OLD.pem --new NEW.pem [--keep-old] [--retire KEYID]… [options]
// options: [--version V] [--shim-range RANGE] [--trust-key PUB.pem]… [--no-build] [--no-push] [--force]
//   scripts/publish --help
//
// Releasing (docs/releasing.md): --rollout stages a mini (5%,25%@6h,100%@1d, from now);
// --from republishes an earlier mini's payload under a new version; halt publishes the
// newest earlier good payload again with a signed halt of VERSION; rotate-key publishes the
// newest payload again signed by the new key, with a statement signed by the old one. A signed
// mini carries the key statements and halts of the newest mini signed by a key publish knows
// (the signing key's, and --trust-key's for minis signed before a rotation).
//
// The arguments are read by node:util parseArgs, strictly: an unknown option, an option
// without its value (or followed by another option instead), a value given to a flag, or a
// missing or second kind is one line on stderr and exit 2, before anything is built.
//
// A mini carries two payloads, run.js (run-docker) and build.js (build-docker), each signed.
// mini payloads are signed with an ed25519 private key (PEM, PKCS#8) from --signing-key or
// the file named by RUN_DOCKER_SIGNING_KEY_FILE; without one the payload is unsigned, and
// shims refuse it unless a host opts in (RUN_DOCKER_ALLOW_UNSIGNED=1). tiny carries the
// public keys (PEM) that shims pinning it trust. scripts/make-signing-key makes a pair.
//
// tiny versions default to the package's semver; mini versions to the UTC time as
// YYYYMMDD-HHMMSS. The shim range defaults to this version's major line
// (>=X.Y.Z <X+1.0.0). With --no-push the last line is the local `REPO:VERSION`.
//
// A mini version must be a usable tag (docs/tags.md) newer than the newest mini already in
// the repository (registry and this host; this host only with --no-push): hosts never run
// an older one. --force publishes anyway (a publisher with a wrong clock is the usual reason
// not to). --shim-range must be a valid semver range. Ctrl-C (SIGINT) or SIGTERM stops the
// build and removes the staging folder and whatever image this run had built; nothing half-
// built stays behind.
'use strict';
const { execFileSync, spawn } = require('node:child_process');
const crypto = require('node:crypto');
const { createHash } = crypto;
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { parseArgs } = require('node:util');

const root = path.join(__dirname, '..');
/** docs/contract.md: beside the payload, at /run-docker/THIRD-PARTY-NOTICES.txt in both images. */
const NOTICES = 'THIRD-PARTY-NOTICES.txt';
const SEE_HELP = 'see "scripts/publish --help"';
/** The mini's second entry, the build payload (build-docker); docs/contract.md. */
const BUILD_ENTRY = 'build.js';
const USAGE = [
  'usage: scripts/publish tiny --repo REPO --trust-key PUB.pem... [OPTIONS]',
  '       scripts/publish mini --repo REPO [--signing-key KEY.pem] [--rollout SCHEDULE] [--from VERSION] [OPTIONS]',
  '       scripts/publish halt VERSION --repo REPO --signing-key KEY.pem [OPTIONS]',
  '       scripts/publish rotate-key --repo REPO --signing-key OLD.pem --new NEW.pem [--keep-old] [--retire KEYID]... [OPTIONS]',
  'OPTIONS: [--version V] [--shim-range RANGE] [--trust-key PUB.pem]... [--no-build] [--no-push] [--force]',
].join('\n');
/** What publish makes: tiny, or a mini (plain, a halt, or a key rotation). */
const KINDS = ['tiny', 'mini', 'halt', 'rotate-key'];

/**
 * @typedef {object} PublishOptions
 * @property {'tiny' | 'mini'} kind what the image is
 * @property {'tiny' | 'mini' | 'halt' | 'rotate-key'} command
 * @property {string} repo
 * @property {string} [version]
 * @property {string} [shimRange]
 * @property {string} [signingKey] a private key file (PEM), mini only
 * @property {string[]} trustKeys public key files (PEM): tiny trusts them; for a mini, publish trusts earlier minis they signed
 * @property {string} [rollout] mini: a schedule, 5%,25%@6h,100%@1d
 * @property {string} [from] mini: republish this version's payload
 * @property {string} [halt] halt: the version to halt
 * @property {string} [newKey] rotate-key: the new private key file (PEM)
 * @property {boolean} keepOld rotate-key: add the new key without retiring the signing key
 * @property {string[]} retire rotate-key: more key IDs to retire
 * @property {boolean} build
 * @property {boolean} push
 * @property {boolean} force
 */
/** @typedef {{ version: string, contract: number }} BuildInfo dist/build-info.json (scripts/build.mjs) */

/** What this run has made that an interruption must take away again.
 *  @type {{ staging?: string, reference?: string, manifestSha256?: string, buildStarted?: number, pushing: boolean }} */
const made = {
  staging: undefined,
  reference: undefined,
  manifestSha256: undefined,
  buildStarted: undefined,
  pushing: false,
};
/** @type {NodeJS.Signals | undefined} */
let interrupted;

/** @param {unknown} error */
const messageOf = (error) => (error instanceof Error ? error.message : String(error));

/** @param {string} message @returns {never} */
function fail(message) {
  // process.exit skips `finally`: the staging folder goes here.
  if (made.staging) fs.rmSync(made.staging, { recursive: true, force: true });
  process.stderr.write(`publish: ${message}\n`);
  process.exit(2);
}

/** The options, for node:util parseArgs (strict: anything else is refused). */
const OPTIONS = /** @type {const} */ ({
  repo: { type: 'string' },
  version: { type: 'string' },
  'shim-range': { type: 'string' },
  'signing-key': { type: 'string' },
  'trust-key': { type: 'string', multiple: true, default: /** @type {string[]} */ ([]) },
  rollout: { type: 'string' },
  from: { type: 'string' },
  new: { type: 'string' },
  'keep-old': { type: 'boolean', default: false },
  retire: { type: 'string', multiple: true, default: /** @type {string[]} */ ([]) },
  'no-build': { type: 'boolean', default: false },
  'no-push': { type: 'boolean', default: false },
  force: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
});
/** OPTIONS by any name a token may carry: undefined for a name that is not one of them.
 *  @type {Readonly<Record<string, { type: 'string' | 'boolean' } | undefined>>} */
const OPTION_TYPES = OPTIONS;

/** @param {string[]} argv @returns {PublishOptions} */
function readOptions(argv) {
  /** @type {ReturnType<typeof parseArgs<{ args: string[], options: typeof OPTIONS, allowPositionals: true, strict: true }>>} */
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    const code = /** @type {{ code?: unknown }} */ (error).code;
    if (typeof code !== 'string' || !code.startsWith('ERR_PARSE_ARGS_')) throw error;
    return fail(`${explainArgvError(argv) ?? messageOf(error).split('\n')[0]}; ${SEE_HELP}`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const [command, ...extra] = positionals;
  if (command === undefined || !KINDS.includes(command))
    return fail(
      `${command === undefined ? 'say what to publish' : `"${command}" is not what to publish`}: tiny, mini, halt or rotate-key; ${SEE_HELP}`,
    );
  const typed = /** @type {PublishOptions['command']} */ (command);
  const halt = typed === 'halt' ? extra.shift() : undefined;
  if (typed === 'halt' && halt === undefined)
    fail(`say which mini version to halt: scripts/publish halt VERSION; ${SEE_HELP}`);
  if (extra.length > 0) fail(`unexpected argument "${extra[0]}"; ${SEE_HELP}`);
  const kind = typed === 'tiny' ? 'tiny' : 'mini';
  // The env key is mini's default only: tiny is never signed.
  const defaultKey = kind === 'mini' ? process.env.RUN_DOCKER_SIGNING_KEY_FILE || undefined : undefined;
  const repo = values.repo;
  if (!repo) return fail(`--repo is required; ${SEE_HELP}`);
  /** @type {PublishOptions} */
  const options = {
    kind,
    command: typed,
    repo,
    version: values.version,
    shimRange: values['shim-range'],
    signingKey: values['signing-key'] ?? defaultKey,
    trustKeys: values['trust-key'],
    rollout: values.rollout,
    from: values.from,
    halt,
    newKey: values.new,
    keepOld: values['keep-old'],
    retire: values.retire,
    build: !values['no-build'],
    push: !values['no-push'],
    force: values.force,
  };
  if (kind === 'tiny' && options.signingKey) fail('tiny is pinned by digest and not signed: --signing-key is for mini');
  /** @param {string} option @param {boolean} given @param {string} only */
  const onlyFor = (option, given, only) => {
    if (given && !only.split(' ').includes(typed)) fail(`${option} is for ${only.replace(' ', ' and ')}, not ${typed}`);
  };
  onlyFor('--rollout', options.rollout !== undefined, 'mini');
  onlyFor('--from', options.from !== undefined, 'mini');
  onlyFor('--new', options.newKey !== undefined, 'rotate-key');
  onlyFor('--keep-old', options.keepOld, 'rotate-key');
  onlyFor('--retire', options.retire.length > 0, 'rotate-key');
  if (typed === 'rotate-key' && !options.newKey)
    fail(`rotate-key needs --new NEW.pem, the new private key; ${SEE_HELP}`);
  // Hosts ignore unsigned halts and key statements (docs/releasing.md): nothing to publish without a key.
  if ((typed === 'halt' || typed === 'rotate-key') && !options.signingKey)
    fail(`${typed} needs --signing-key (or RUN_DOCKER_SIGNING_KEY_FILE): hosts ignore what no trusted key signed`);
  if (options.rollout !== undefined) {
    try {
      publishSupportOrNull()?.parseRolloutOption(options.rollout, new Date());
    } catch (error) {
      fail(`--rollout: ${messageOf(error)}; nothing was published`);
    }
  }
  if (/[:@]/.test(repo.split('/').slice(1).join('/')) || repo !== repo.toLowerCase()) {
    fail(`--repo "${repo}" must be a repository without tag or digest, in lower case`);
  }
  // An empty range would read as "*" (every shim) and garbage as nothing: both are refused
  // before anything is built, so no host ever sees them.
  if (
    options.shimRange !== undefined &&
    (options.shimRange.trim() === '' || require('semver/ranges/valid')(options.shimRange) === null)
  ) {
    fail(
      `--shim-range "${options.shimRange}" is not a valid semver range (for example ">=0.1.0 <1.0.0"); nothing was published`,
    );
  }
  return { ...options, repo };
}

/**
 * What strict parseArgs refused, in this script's words: its own messages name options in
 * its own way and span lines. The same argv read leniently shows the token at fault.
 *  @param {string[]} argv @returns {string | undefined}
 */
function explainArgvError(argv) {
  const { tokens } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: false, tokens: true });
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    const spec = OPTION_TYPES[token.name];
    if (spec === undefined) return `unknown option "${token.rawName}"`;
    if (spec.type === 'boolean' && token.value !== undefined) return `${token.rawName} takes no value`;
    if (spec.type === 'string' && token.value === undefined) return `${token.rawName} needs a value`;
    if (spec.type === 'string' && token.value !== undefined && !token.inlineValue && token.value.startsWith('-')) {
      return `${token.rawName} needs a value, but "${token.value}" follows it (write ${token.rawName}=${token.value} if that is the value)`;
    }
  }
  return undefined;
}

/** What the TypeScript side lends this script (common/publish-support.ts), built by scripts/build.mjs.
 *  @returns {typeof import('../common/publish-support')} */
function publishSupport() {
  return require(path.join(root, 'dist/publish-support.js'));
}

/** What releasing minis borrows from the TypeScript side (publish/release-support.ts).
 *  @returns {typeof import('../publish/release-support')} */
function releaseSupport() {
  return require(path.join(root, 'dist/release-support.js'));
}

/** releaseSupport before the build ran (an option checked before anything is built): undefined when it is not there yet.
 *  @returns {typeof import('../publish/release-support') | undefined} */
function publishSupportOrNull() {
  return fs.existsSync(path.join(root, 'dist/release-support.js')) ? releaseSupport() : undefined;
}

// Output goes to stderr only when a step fails (the legacy builder's deprecation notice is noise).
/** @param {string} command @param {string[]} args @param {Omit<import('node:child_process').ExecFileSyncOptions, 'encoding'>} options */
function run(command, args, options = {}) {
  try {
    return execFileSync(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options, encoding: 'utf8' });
  } catch (error) {
    const failure = /** @type {{ stderr?: string, status?: number }} */ (error);
    process.stderr.write(failure.stderr ?? '');
    throw new Error(`${command} ${args[0]} failed (exit ${failure.status})`);
  }
}

/** What the legacy builder says when a cached step's image was removed while it built: as it
 *  takes the step from the cache, or as it commits the next step on it. */
const LOST_CACHED_STEP = /unable to find image "sha256:|unknown parent image ID sha256:/;

/** The step running now, so a signal can stop it (see onInterrupt).
 *  @type {import('node:child_process').ChildProcess | undefined} */
let current;

/** As run, for the long steps (build, push): asynchronous, so SIGINT/SIGTERM handlers run
 *  while they do. Resolves to stdout; rejects with `interrupted` set when a signal stopped it,
 *  else with `output` (its stderr), which is also shown unless it matches `quiet`.
 *  @param {string} command @param {string[]} args
 *  @param {import('node:child_process').SpawnOptions & { quiet?: RegExp }} options
 *  @returns {Promise<string>} */
function runStep(command, args, options = {}) {
  const { quiet, ...spawnOptions } = options;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...spawnOptions });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk) => (stdout += chunk));
    child.stderr?.on('data', (chunk) => (stderr += chunk));
    current = child;
    child.on('error', reject);
    child.on('close', (code, signal) => {
      current = undefined;
      if (interrupted) return reject(Object.assign(new Error('interrupted'), { interrupted: true }));
      if (code === 0) return resolve(stdout);
      // A failure the caller handles itself (quiet) is not shown: it may well be tried again.
      if (!quiet?.test(stderr)) process.stderr.write(stderr);
      reject(Object.assign(new Error(`${command} ${args[0]} failed (exit ${code ?? signal})`), { output: stderr }));
    });
  });
}

function gitRevision() {
  try {
    return run('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

/** @param {import('node:crypto').BinaryLike} bytes */
const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

/** @param {string} file @param {(pem: Buffer) => import('node:crypto').KeyObject} read */
function readKey(file, read) {
  try {
    const key = read(fs.readFileSync(file));
    if (key.asymmetricKeyType !== 'ed25519') fail(`"${file}" is a ${key.asymmetricKeyType} key, not ed25519`);
    return key;
  } catch (error) {
    return fail(`cannot read the key "${file}": ${messageOf(error).split('\n')[0]}`);
  }
}

/** keyId and base64 DER of a public key, as the contract's TrustedKey. */
/** @param {import('node:crypto').KeyObject} publicKey @returns {import('../contract/contract').TrustedKey} */
function trustedKey(publicKey) {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return { keyId: sha256(der).slice(0, 16), publicKey: der.toString('base64') };
}

async function main() {
  const options = readOptions(process.argv.slice(2));
  if (options.build) run('node', [path.join(root, 'scripts/build.mjs')]);
  const info = /** @type {BuildInfo} */ (JSON.parse(fs.readFileSync(path.join(root, 'dist/build-info.json'), 'utf8')));
  const now = new Date();
  const version = options.version ?? (options.kind === 'tiny' ? info.version : publishSupport().formatUtcStamp(now));
  const major = Number(info.version.split('.')[0]);
  const defaultRange = `>=${info.version} <${major + 1}.0.0`;
  const entry = options.kind === 'tiny' ? 'locate.js' : 'run.js';
  // The minis already published: to check the version (unless --force) and to build on (signed minis).
  const tags =
    options.kind === 'mini' && (!options.force || options.signingKey) ? await listMinis(options, version, info) : [];
  if (options.kind === 'mini' && !options.force) checkNewest(options, version, tags);
  const release = options.kind === 'mini' ? await planRelease(options, tags, now) : undefined;

  const reference = `${options.repo}:${version}`;
  const existed = run('docker', ['image', 'ls', '--quiet', reference]).trim() !== '';
  const staging = fs.mkdtempSync(path.join(os.tmpdir(), `run-docker-${options.kind}-`));
  made.staging = staging;
  try {
    const payloadDir = path.join(staging, 'payload');
    fs.mkdirSync(payloadDir);
    // A mini's files come from this build, or from the published mini it builds on (--from, halt, rotate-key).
    /** @param {string} name */
    const fileOf = (name) =>
      release?.source?.files.get(name) ?? fs.readFileSync(path.join(root, 'dist/payload', options.kind, name));
    /** Where a file of the payload folder came from, for messages. @param {string} name */
    const fromOf = (name) =>
      release?.source?.files.has(name)
        ? `from the mini "${release.source.reference}"`
        : `dist/payload/${options.kind}/${name}`;
    const entryBytes = fileOf(release?.source?.manifest.entry ?? entry);
    const entryName = release?.source?.manifest.entry ?? entry;
    fs.writeFileSync(path.join(payloadDir, entryName), entryBytes);
    const shimRange =
      release?.shimRange(options.shimRange ?? release.source?.manifest.shim ?? defaultRange) ??
      options.shimRange ??
      defaultRange;
    /** @type {import('../contract/contract').PayloadManifest} */
    const manifest = {
      contract: info.contract,
      kind: options.kind,
      version,
      entry: entryName,
      sha256: sha256(entryBytes),
      shim: shimRange,
      ...(release?.rollout ? { rollout: release.rollout } : {}),
      signature: null,
    };
    if (options.kind === 'mini') {
      // The build payload (build-docker) beside the run payload, with its own signature, so
      // shims that predate it verify `signature` exactly as before (docs/contract.md).
      const buildName = release?.source ? release.source.manifest.build?.entry : BUILD_ENTRY;
      if (buildName !== undefined) {
        const buildBytes = fileOf(buildName);
        fs.writeFileSync(path.join(payloadDir, buildName), buildBytes);
        manifest.build = { entry: buildName, sha256: sha256(buildBytes), signature: null };
      }
    }
    if (release?.signer) {
      /** @type {typeof import('../contract/contract')} */
      const { signedPayloadText, signedBuildPayloadText, signedHaltsText } = require(
        path.join(root, 'dist/contract.js'),
      );
      const { signer } = release;
      manifest.signature = sign(signedPayloadText(manifest), signer);
      const { build } = manifest;
      if (build) build.signature = sign(signedBuildPayloadText({ ...manifest, build }), signer);
      // Each later mini carries the halts and the key chain so far: a fresh host learns them from the newest.
      if (release.halts.length > 0) {
        const halts = { versions: release.halts, signature: null };
        manifest.halts = { ...halts, signature: sign(signedHaltsText({ ...manifest, halts }), signer) };
      }
      if (release.chain.length > 0) manifest.keys = release.chain;
    }
    if (options.kind === 'tiny') {
      manifest.trustedKeys = options.trustKeys.map((file) =>
        trustedKey(readKey(file, (pem) => crypto.createPublicKey(pem))),
      );
    }
    const manifestBytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
    fs.writeFileSync(path.join(payloadDir, 'manifest.json'), manifestBytes);
    // The licences of everything the image carries (scripts/build.mjs writes one per image;
    // a republished payload keeps its own). Not part of what is signed or verified: the shim
    // reads only the manifest and the entries.
    const sourceNotices = release?.source?.files.get(NOTICES);
    if (sourceNotices) {
      fs.writeFileSync(path.join(payloadDir, NOTICES), sourceNotices);
    } else {
      const notices = path.join(root, 'dist/payload', options.kind, NOTICES);
      if (!fs.existsSync(notices))
        fail(`${path.relative(root, notices)} is missing; run the build (npm run build) first`);
      fs.copyFileSync(notices, path.join(payloadDir, NOTICES));
    }
    // Hosts read a payload within bounds and refuse it past them, each call, fleet-wide: such a
    // payload is not built (publish/check-payload-sizes.ts, by the shim's own constants).
    const sizes = releaseSupport().checkPayloadSizes(
      fs.readdirSync(payloadDir).map((name) => ({
        name,
        bytes: fs.statSync(path.join(payloadDir, name)).size,
        from: name === 'manifest.json' ? 'written by publish' : fromOf(name),
      })),
      manifest,
    );
    if (sizes.refusal) fail(`${sizes.refusal}; nothing was built or pushed`);
    if (sizes.warning) warnings.warn(sizes.warning);
    if (options.kind === 'tiny') {
      fs.mkdirSync(path.join(staging, 'shim'));
      fs.copyFileSync(path.join(root, 'dist/shim/run-docker.js'), path.join(staging, 'shim/run-docker.js'));
    }

    const buildArgs = {
      VERSION: version,
      REVISION: gitRevision(),
      CONTRACT: String(info.contract),
      MANIFEST_SHA256: sha256(manifestBytes),
    };
    made.manifestSha256 = buildArgs.MANIFEST_SHA256;
    if (!existed) made.reference = reference;
    made.buildStarted = Date.now();
    const build = (/** @type {string[]} */ cacheArgs) =>
      runStep(
        'docker',
        [
          'build',
          '--quiet',
          '--force-rm',
          ...cacheArgs,
          '--file',
          path.join(root, options.kind === 'tiny' ? 'Dockerfile.tiny' : 'Dockerfile.mini'),
          ...Object.entries(buildArgs).flatMap(([key, value]) => ['--build-arg', `${key}=${value}`]),
          '--tag',
          reference,
          staging,
        ],
        { env: { ...process.env, DOCKER_BUILDKIT: '0' }, quiet: LOST_CACHED_STEP },
      );
    await build([]).catch((error) => {
      // The legacy builder takes a cached step's image and uses it a moment later; another
      // build's clean-up on the same engine (a CI job, a benchmark) can remove it in between,
      // and the build fails with 'unable to find image "sha256:…"' or 'unknown parent image ID'
      // (seen with a benchmark publishing beside the test suite). Built again without the
      // cache, nothing can go.
      if (!(error instanceof Error && 'output' in error && LOST_CACHED_STEP.test(String(error.output)))) throw error;
      process.stderr.write(
        'publish: the engine lost a cached build step (removed by another run); building without the cache\n',
      );
      return build(['--no-cache']);
    });
    const trust =
      options.kind === 'tiny'
        ? `trusts ${(manifest.trustedKeys ?? []).map((key) => key.keyId).join(', ') || 'no key'}`
        : manifest.signature
          ? `signed by ${manifest.signature.keyId}`
          : 'UNSIGNED';
    const extras = release?.describe(manifest) ?? '';
    process.stderr.write(
      `publish: built ${reference} (${options.kind} ${version}, shim ${shimRange}, ${trust}${extras})\n`,
    );
    if (!options.push) {
      made.reference = undefined;
      process.stdout.write(`${reference}\n`);
      return;
    }
    // From here the image is whole: an interrupted push leaves it, tagged, to push again.
    made.reference = undefined;
    made.pushing = true;
    await runStep('docker', ['push', '--quiet', reference]);
    const digests = /** @type {string[]} */ (
      JSON.parse(run('docker', ['image', 'inspect', '--format', '{{json .RepoDigests}}', reference]))
    );
    const pushed = digests.find((digest) => digest.startsWith(`${options.repo}@`));
    if (!pushed) fail(`pushed ${reference} but the engine reports no digest for it`);
    process.stdout.write(`${pushed}\n`);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
    made.staging = undefined;
  }
}

/** @param {string} text @param {import('node:crypto').KeyObject} privateKey @returns {{ keyId: string, value: string }} */
function sign(text, privateKey) {
  return {
    keyId: trustedKey(crypto.createPublicKey(privateKey)).keyId,
    value: crypto.sign(null, Buffer.from(text), privateKey).toString('base64'),
  };
}

/** @type {import('../contract/contract').Logger} */
const warnings = { warn: (line) => process.stderr.write(`publish: warning: ${line}\n`), debug: () => undefined };

/** @type {Promise<import('../contract/contract').EngineClient> | undefined} */
let engineClient;
/** The engine the docker CLI uses, as the shim connects to it. */
function engine() {
  engineClient ??= publishSupport().connectEngine(process.env, process.env.HOME || os.homedir());
  return engineClient;
}

/**
 * The minis already in the repository, newest first (registry and this host; this host only
 * with --no-push), as the locator lists them.
 * @param {PublishOptions} options @param {string} version @param {BuildInfo} info
 * @returns {Promise<import('../contract/contract').LocatedTag[]>}
 */
async function listMinis(options, version, info) {
  if (!options.force && publishSupport().compareTagOrder(version, version) === undefined) {
    fail(
      `mini version "${version}" is not a usable tag (a real UTC moment as YYYYMMDD-HHMMSS or yy.mm.dd, or a semantic version; see docs/tags.md), so no host would find it; use --force to publish it anyway`,
    );
  }
  /** @type {Required<import('../contract/contract').LocatorModule>} */
  const { listTagsNewestFirst } = require(path.join(root, 'dist/payload/tiny/locate.js'));
  try {
    return await listTagsNewestFirst(
      {
        contract: info.contract,
        shimVersion: info.version,
        local: !options.push,
        env: process.env,
        log: warnings,
        engine: await engine(),
      },
      options.repo,
    );
  } catch (error) {
    const hint = /** @type {{ hint?: string }} */ (error).hint;
    return fail(
      `cannot list the minis already in "${options.repo}" to check that ${version} is newer: ${messageOf(error)}${hint ? `. ${hint}` : ''}`,
    );
  }
}

/**
 * Hosts run the newest mini and never an older one than they have run, so a version that is
 * not newer than the newest already published would never run anywhere (or, re-using a
 * version, would replace a tag hosts have verified). The order is the locator's own.
 * @param {PublishOptions} options @param {string} version @param {import('../contract/contract').LocatedTag[]} tags
 */
function checkNewest(options, version, tags) {
  const { compareTagOrder } = publishSupport();
  const newest = tags[0]?.tag;
  const order = newest === undefined ? undefined : compareTagOrder(version, newest);
  if (newest !== undefined && order !== undefined && order <= 0) {
    fail(
      `mini ${version} is not newer than ${newest}, the newest mini in "${options.repo}", so hosts would never run it; check this machine's clock (UTC), or use --force to publish it anyway`,
    );
  }
}

/** How many of the newest minis publish reads to find the newest one it signed (its key chain and halts). */
const HISTORY_DEPTH = 5;

/**
 * @typedef {object} ReleasePlan
 * @property {import('node:crypto').KeyObject | undefined} signer the key the payload is signed with
 * @property {import('../publish/release-support').PublishedMini | undefined} source the published mini whose payload is republished
 * @property {import('../contract/contract').Rollout | undefined} rollout
 * @property {string[]} halts every version halted so far, newest first
 * @property {import('../contract/contract').KeyStatement[]} chain every key statement so far, oldest first
 * @property {(range: string) => string} shimRange the range the mini needs, from the one asked for
 * @property {(manifest: import('../contract/contract').PayloadManifest) => string} describe what the "built" line adds
 */

/**
 * What a mini builds on (docs/releasing.md): the newest earlier mini signed by a key publish
 * knows (the signing key's, --trust-key's) gives the halts and the key chain so far; --from,
 * halt and rotate-key take a published payload, verified as a host would, instead of this build's.
 * @param {PublishOptions} options @param {import('../contract/contract').LocatedTag[]} tags @param {Date} now
 * @returns {Promise<ReleasePlan>}
 */
async function planRelease(options, tags, now) {
  const support = releaseSupport();
  const semver = { intersects: require('semver/ranges/intersects') };
  const admitsOlder = (/** @type {string} */ range) =>
    semver.intersects(range, `<${support.RELEASES_SHIM_VERSION}`, { includePrerelease: true });
  const rollout = options.rollout === undefined ? undefined : parseRollout(options.rollout, now);
  const signer = options.signingKey ? readKey(options.signingKey, (pem) => crypto.createPrivateKey(pem)) : undefined;
  const plain = {
    signer,
    source: undefined,
    rollout,
    halts: [],
    chain: [],
    shimRange: (/** @type {string} */ range) => (rollout ? support.narrowShimRange(range, admitsOlder) : range),
    describe: () => (rollout ? `, rollout ${support.formatRolloutSteps(rollout.steps)} from ${rollout.start}` : ''),
  };
  // Unsigned: no host follows its statements, so there is nothing to carry.
  if (!signer) {
    if (options.from !== undefined) fail('--from republishes a verified payload: it needs --signing-key');
    return plain;
  }
  const known = [
    trustedKey(crypto.createPublicKey(signer)),
    ...options.trustKeys.map((file) => trustedKey(readKey(file, (pem) => crypto.createPublicKey(pem)))),
  ];
  /** @type {Map<string, Promise<import('../publish/release-support').PublishedMini>>} */
  const read = new Map();
  /** A published mini of the repository, pulled when it is not on this host. @param {import('../contract/contract').LocatedTag} located */
  const readMini = (located) => {
    const reference = `${options.repo}:${located.tag}`;
    let mini = read.get(reference);
    if (!mini) {
      if (!located.presentLocally) run('docker', ['pull', '--quiet', reference]);
      mini = engine().then((client) => support.readPublishedMini(client, reference, warnings));
      read.set(reference, mini);
    }
    return mini;
  };
  /** @param {import('../publish/release-support').PublishedMini} mini */
  const isOurs = (mini) => support.checkPublishedSignature(mini, known) === undefined;

  // The newest mini publish signed (or was told to trust): its halts and chain go on.
  /** @type {import('../publish/release-support').PublishedMini | undefined} */
  let base;
  /** @type {string[]} */
  const passed = [];
  for (const located of tags.slice(0, HISTORY_DEPTH)) {
    const mini = await readMini(located).catch((/** @type {unknown} */ error) => messageOf(error));
    if (typeof mini !== 'string' && isOurs(mini)) {
      base = mini;
      break;
    }
    passed.push(typeof mini === 'string' ? mini : `${located.tag}: ${support.checkPublishedSignature(mini, known)}`);
  }
  if (!base && tags.length > 0)
    warnings.warn(
      `none of the newest ${Math.min(tags.length, HISTORY_DEPTH)} minis of "${options.repo}" is signed by a key publish knows (${passed.join('; ')}): this mini carries no key statements or halts; give the key earlier minis were signed with as --trust-key PUB.pem`,
    );
  let halts = base?.manifest.halts?.versions ?? [];
  let chain = base?.manifest.keys ?? [];

  /** @type {import('../publish/release-support').PublishedMini | undefined} */
  let source;
  let payloadKey = signer;
  /** @type {string[]} */
  const notes = [];
  if (options.from !== undefined) {
    const located = tags.find((tag) => tag.tag === options.from);
    if (!located) return fail(`--from ${options.from}: there is no such mini in "${options.repo}"`);
    source = await readMini(located).catch((/** @type {unknown} */ error) => fail(`--from ${messageOf(error)}`));
    const problem = support.checkPublishedSignature(source, known);
    if (problem)
      fail(
        `--from ${options.from} is not republished: ${problem}${problem.includes('publish was not given') ? '; give its key as --trust-key PUB.pem' : ''}`,
      );
    notes.push(`payload of ${options.from}`);
  } else if (options.command === 'halt') {
    const halted = options.halt ?? '';
    // Newer minis no key publish knows signed (pushed by someone without one) are refused by
    // every host anyway: they neither block a halt nor are sent back past.
    const { compareTagOrder } = publishSupport();
    /** @type {import('../contract/contract').LocatedTag[]} */
    const ignored = [];
    for (const located of tags.filter((tag) => (compareTagOrder(tag.tag, halted) ?? 0) > 0)) {
      const mini = await readMini(located).catch(() => undefined);
      if (!mini || !isOurs(mini)) ignored.push(located);
    }
    const relevant = tags.filter((tag) => !ignored.includes(tag));
    const { candidates } = (() => {
      try {
        return support.planHalt(
          relevant.map((tag) => tag.tag),
          halted,
          new Set(halts),
        );
      } catch (error) {
        return fail(`cannot halt: ${messageOf(error)}`);
      }
    })();
    const haltedMini = await readMini(/** @type {import('../contract/contract').LocatedTag} */ (relevant[0])).catch(
      () => undefined,
    );
    /** @type {string[]} */
    const skipped = [];
    // Back to the newest earlier mini every host may run: one still rolling out would move
    // hosts that never had it (docs/releasing.md, "Halt").
    for (const tag of candidates.slice(0, HISTORY_DEPTH)) {
      const located = /** @type {import('../contract/contract').LocatedTag} */ (tags.find((t) => t.tag === tag));
      const mini = await readMini(located).catch((/** @type {unknown} */ error) => messageOf(error));
      const why =
        typeof mini === 'string'
          ? mini
          : (support.checkPublishedSignature(mini, known) ??
            (mini.manifest.sha256 === haltedMini?.manifest.sha256
              ? 'it has the halted payload'
              : support.describeUnfinishedRollout(mini.manifest, now.getTime())));
      if (why === undefined && typeof mini !== 'string') {
        source = mini;
        break;
      }
      skipped.push(`${tag} (${why})`);
    }
    if (!source)
      fail(
        `cannot halt ${halted}: no mini before it can take its place (tried ${skipped.join('; ')}); publish a good payload with "scripts/publish mini --from VERSION"`,
      );
    halts = [halted, ...halts.filter((version) => version !== halted)];
    notes.push(
      `halts ${halted}, payload of ${source.manifest.version}${skipped.length ? ` (passed over ${skipped.join('; ')})` : ''}`,
    );
  } else if (options.command === 'rotate-key') {
    if (!base)
      fail(`rotate-key republishes the newest mini signed by ${known[0]?.keyId}, and "${options.repo}" has none`);
    // A host waiting for a staged mini runs an older one, signed by the key this retires: it
    // would be left with none (docs/releasing.md, "Key rotation").
    const unfinished = support.describeUnfinishedRollout(base.manifest, now.getTime());
    if (unfinished)
      fail(
        `rotate-key republishes the newest mini, ${base.manifest.version}, for every host, and ${unfinished}: let it reach 100%, or halt it first`,
      );
    source = base;
    const newKey = readKey(options.newKey ?? '', (pem) => crypto.createPrivateKey(pem));
    const added = trustedKey(crypto.createPublicKey(newKey));
    const retire = [...new Set([...(options.keepOld ? [] : [known[0]?.keyId ?? '']), ...options.retire])];
    /** @type {typeof import('../contract/contract')} */
    const { signedKeyStatementText } = require(path.join(root, 'dist/contract.js'));
    const statement = { add: [added], retire };
    chain = [...chain, { ...statement, signature: sign(signedKeyStatementText(statement), signer) }];
    payloadKey = newKey;
    notes.push(
      `payload of ${source.manifest.version}, adds key ${added.keyId}${retire.length ? `, retires ${retire.join(', ')}` : ''}`,
    );
  }
  const addedByChain = new Set(chain.flatMap((statement) => statement.add.map((key) => key.keyId)));
  const payloadKeyId = trustedKey(crypto.createPublicKey(payloadKey)).keyId;
  // Older shims cannot follow a schedule or a chain: they skip such a mini as "needs another shim".
  const narrow = rollout !== undefined || addedByChain.has(payloadKeyId);
  return {
    signer: payloadKey,
    source,
    rollout,
    halts,
    chain,
    shimRange: (range) => (narrow ? support.narrowShimRange(range, admitsOlder) : range),
    describe: (manifest) =>
      [
        plain.describe(),
        ...notes.map((note) => `, ${note}`),
        manifest.halts && options.command !== 'halt' ? `, carries halts of ${manifest.halts.versions.join(', ')}` : '',
        manifest.keys ? `, carries ${manifest.keys.length} key statement${manifest.keys.length === 1 ? '' : 's'}` : '',
      ].join(''),
  };
}

/** --rollout as a schedule from `now`; a bad one is one line, exit 2, before anything is built.
 *  @param {string} text @param {Date} now */
function parseRollout(text, now) {
  try {
    return releaseSupport().parseRolloutOption(text, now);
  } catch (error) {
    return fail(`--rollout: ${messageOf(error)}; nothing was published`);
  }
}

/** Removes images by reference or ID, one by one (a parent goes only after its child); how
 *  many it removed. Failures are left to the next look.
 *  @param {string[]} references */
function removeImages(references) {
  let removed = 0;
  for (const reference of references) {
    try {
      execFileSync('docker', ['image', 'rm', '--force', reference], { stdio: 'ignore' });
      removed++;
    } catch {
      // Still in use by a step the engine is finishing: the next look gets it.
    }
  }
  return removed;
}

/** @param {string} reference */
function imageExists(reference) {
  return run('docker', ['image', 'ls', '--quiet', reference]).trim() !== '';
}

/** Untagged images the interrupted build committed: they carry this payload's manifest label
 *  (another publish of the very same payload could too, so also: made since this build began). */
function danglingImagesOfThisBuild() {
  const listed = run('docker', [
    'image',
    'ls',
    '--all',
    '--quiet',
    '--no-trunc',
    '--filter',
    `label=org.run-docker.manifest.sha256=${made.manifestSha256}`,
    '--filter',
    'dangling=true',
  ]);
  const ids = listed.split('\n').filter((id) => id.trim() !== '');
  if (ids.length === 0) return [];
  const created = run('docker', ['image', 'inspect', '--format', '{{.Id}} {{.Created}}', ...ids]).split('\n');
  return created
    .map((line) => line.trim().split(' '))
    .flatMap(([id, time]) => (id && time && Date.parse(time) >= (made.buildStarted ?? Infinity) - 1000 ? [id] : []));
}

/**
 * SIGINT (Ctrl-C) or SIGTERM: stop the running step, then remove the staging folder, the
 * image this run built (unless it is whole and being pushed), and any untagged images its
 * interrupted build committed (the legacy builder commits one per step; they carry this
 * payload's manifest label, which no other build has). Exit 128 + the signal's number.
 * @param {NodeJS.Signals} signal
 */
function onInterrupt(signal) {
  if (interrupted) return;
  interrupted = signal;
  const finish = () => {
    if (made.staging) fs.rmSync(made.staging, { recursive: true, force: true });
    let removed = 0;
    if (made.buildStarted !== undefined && !made.pushing) {
      // A cancelled legacy build still finishes the step it is in, and may even commit and tag
      // the last one: look again until two looks half a second apart find nothing (at most 5 s).
      const until = Date.now() + 5000;
      for (let quiet = 0; quiet < 2 && Date.now() < until;) {
        const found = [
          ...(made.reference && imageExists(made.reference) ? [made.reference] : []),
          ...danglingImagesOfThisBuild(),
        ];
        quiet = found.length === 0 ? quiet + 1 : 0;
        removed += removeImages(found);
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
      }
    }
    process.stderr.write(
      `publish: interrupted (${signal}); removed the staging folder${removed > 0 ? ' and the partly built image' : ''}\n`,
    );
    process.exit(128 + os.constants.signals[signal]);
  };
  const finishOrSay = () => {
    try {
      finish();
    } catch (error) {
      process.stderr.write(
        `publish: interrupted (${signal}); cleaning up failed: ${messageOf(error).split('\n')[0]}\n`,
      );
      process.exit(128 + os.constants.signals[signal]);
    }
  };
  if (current) {
    current.once('close', finishOrSay);
    current.kill(signal);
  } else {
    finishOrSay();
  }
}
process.on('SIGINT', onInterrupt);
process.on('SIGTERM', onInterrupt);

main().catch((error) => {
  // An interrupted step: onInterrupt finishes the job and exits.
  if (/** @type {{ interrupted?: boolean }} */ (error).interrupted) return;
  fail(messageOf(error).split('\n')[0] ?? '');
});
