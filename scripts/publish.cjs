#!/usr/bin/env node
// @ts-check
// Builds and pushes a tiny or mini image; the last line of output is `REPO@sha256:…`.
//
//   scripts/publish tiny --repo R --trust-key PUB.pem [--trust-key PUB2.pem …] [options]
//   scripts/publish mini --repo R [--signing-key KEY.pem] [options]
// options: [--version V] [--shim-range RANGE] [--no-build] [--no-push] [--force]
//   scripts/publish --help
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
const USAGE =
  'usage: scripts/publish tiny|mini --repo REPO [--trust-key PUB.pem]... [--signing-key KEY.pem] [--version V] [--shim-range RANGE] [--no-build] [--no-push] [--force]';

/**
 * @typedef {object} PublishOptions
 * @property {'tiny' | 'mini'} kind
 * @property {string} repo
 * @property {string} [version]
 * @property {string} [shimRange]
 * @property {string} [signingKey] a private key file (PEM), mini only
 * @property {string[]} trustKeys public key files (PEM), tiny only
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
  const [kind, ...extra] = positionals;
  if (kind !== 'tiny' && kind !== 'mini')
    return fail(
      `${kind === undefined ? 'say what to publish' : `"${kind}" is not what to publish`}: tiny or mini; ${SEE_HELP}`,
    );
  if (extra.length > 0) fail(`unexpected argument "${extra[0]}"; ${SEE_HELP}`);
  // The env key is mini's default only: tiny is never signed.
  const defaultKey = kind === 'mini' ? process.env.RUN_DOCKER_SIGNING_KEY_FILE || undefined : undefined;
  const repo = values.repo;
  if (!repo) return fail(`--repo is required; ${SEE_HELP}`);
  /** @type {PublishOptions} */
  const options = {
    kind,
    repo,
    version: values.version,
    shimRange: values['shim-range'],
    signingKey: values['signing-key'] ?? defaultKey,
    trustKeys: values['trust-key'],
    build: !values['no-build'],
    push: !values['no-push'],
    force: values.force,
  };
  if (kind === 'tiny' && options.signingKey) fail('tiny is pinned by digest and not signed: --signing-key is for mini');
  if (kind === 'mini' && options.trustKeys.length > 0)
    fail('--trust-key is for tiny, which carries the keys shims trust');
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

/** The step running now, so a signal can stop it (see onInterrupt).
 *  @type {import('node:child_process').ChildProcess | undefined} */
let current;

/** As run, for the long steps (build, push): asynchronous, so SIGINT/SIGTERM handlers run
 *  while they do. Resolves to stdout; rejects with `interrupted` set when a signal stopped it.
 *  @param {string} command @param {string[]} args @param {import('node:child_process').SpawnOptions} options
 *  @returns {Promise<string>} */
function runStep(command, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
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
      process.stderr.write(stderr);
      reject(new Error(`${command} ${args[0]} failed (exit ${code ?? signal})`));
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
  const version =
    options.version ?? (options.kind === 'tiny' ? info.version : publishSupport().formatUtcStamp(new Date()));
  const major = Number(info.version.split('.')[0]);
  const shimRange = options.shimRange ?? `>=${info.version} <${major + 1}.0.0`;
  const entry = options.kind === 'tiny' ? 'locate.js' : 'run.js';
  if (options.kind === 'mini' && !options.force) await checkNewest(options, version, info);

  const reference = `${options.repo}:${version}`;
  const existed = run('docker', ['image', 'ls', '--quiet', reference]).trim() !== '';
  const staging = fs.mkdtempSync(path.join(os.tmpdir(), `run-docker-${options.kind}-`));
  made.staging = staging;
  try {
    const payloadDir = path.join(staging, 'payload');
    fs.mkdirSync(payloadDir);
    const entryBytes = fs.readFileSync(path.join(root, 'dist/payload', options.kind, entry));
    fs.writeFileSync(path.join(payloadDir, entry), entryBytes);
    /** @type {import('../contract/contract').PayloadManifest} */
    const manifest = {
      contract: info.contract,
      kind: options.kind,
      version,
      entry,
      sha256: sha256(entryBytes),
      shim: shimRange,
      signature: null,
    };
    if (options.kind === 'mini') {
      // The build payload (build-docker) beside the run payload, with its own signature, so
      // shims that predate it verify `signature` exactly as before (docs/contract.md).
      const buildBytes = fs.readFileSync(path.join(root, 'dist/payload/mini', BUILD_ENTRY));
      fs.writeFileSync(path.join(payloadDir, BUILD_ENTRY), buildBytes);
      manifest.build = { entry: BUILD_ENTRY, sha256: sha256(buildBytes), signature: null };
    }
    if (options.signingKey) {
      const privateKey = readKey(options.signingKey, (pem) => crypto.createPrivateKey(pem));
      /** @type {typeof import('../contract/contract')} */
      const { signedPayloadText, signedBuildPayloadText } = require(path.join(root, 'dist/contract.js'));
      /** @param {string} text @returns {{ keyId: string, value: string }} */
      const sign = (text) => ({
        keyId: trustedKey(crypto.createPublicKey(privateKey)).keyId,
        value: crypto.sign(null, Buffer.from(text), privateKey).toString('base64'),
      });
      manifest.signature = sign(signedPayloadText(manifest));
      const { build } = manifest;
      if (build) build.signature = sign(signedBuildPayloadText({ ...manifest, build }));
    }
    if (options.kind === 'tiny') {
      manifest.trustedKeys = options.trustKeys.map((file) =>
        trustedKey(readKey(file, (pem) => crypto.createPublicKey(pem))),
      );
    }
    const manifestBytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
    fs.writeFileSync(path.join(payloadDir, 'manifest.json'), manifestBytes);
    // The licences of everything the image carries (scripts/build.mjs writes one per image).
    // Not part of what is signed or verified: the shim reads only the manifest and the entry.
    const notices = path.join(root, 'dist/payload', options.kind, NOTICES);
    if (!fs.existsSync(notices))
      fail(`${path.relative(root, notices)} is missing; run the build (npm run build) first`);
    fs.copyFileSync(notices, path.join(payloadDir, NOTICES));
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
    await runStep(
      'docker',
      [
        'build',
        '--quiet',
        '--force-rm',
        '--file',
        path.join(root, options.kind === 'tiny' ? 'Dockerfile.tiny' : 'Dockerfile.mini'),
        ...Object.entries(buildArgs).flatMap(([key, value]) => ['--build-arg', `${key}=${value}`]),
        '--tag',
        reference,
        staging,
      ],
      { env: { ...process.env, DOCKER_BUILDKIT: '0' } },
    );
    const trust =
      options.kind === 'tiny'
        ? `trusts ${(manifest.trustedKeys ?? []).map((key) => key.keyId).join(', ') || 'no key'}`
        : manifest.signature
          ? `signed by ${manifest.signature.keyId}`
          : 'UNSIGNED';
    process.stderr.write(`publish: built ${reference} (${options.kind} ${version}, shim ${shimRange}, ${trust})\n`);
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

/**
 * Hosts run the newest mini and never an older one than they have run, so a version that is
 * not newer than the newest already published would never run anywhere (or, re-using a
 * version, would replace a tag hosts have verified). The order is the locator's own.
 * @param {PublishOptions} options @param {string} version @param {BuildInfo} info
 */
async function checkNewest(options, version, info) {
  const { compareTagOrder, connectEngine } = publishSupport();
  if (compareTagOrder(version, version) === undefined) {
    fail(
      `mini version "${version}" is not a usable tag (a real UTC moment as YYYYMMDD-HHMMSS or yy.mm.dd, or a semantic version; see docs/tags.md), so no host would find it; use --force to publish it anyway`,
    );
  }
  /** @type {Required<import('../contract/contract').LocatorModule>} */
  const { listTagsNewestFirst } = require(path.join(root, 'dist/payload/tiny/locate.js'));
  /** @type {import('../contract/contract').Logger} */
  const log = { warn: (line) => process.stderr.write(`publish: warning: ${line}\n`), debug: () => undefined };
  let tags;
  try {
    const engine = await connectEngine(process.env, process.env.HOME || os.homedir());
    tags = await listTagsNewestFirst(
      { contract: info.contract, shimVersion: info.version, local: !options.push, env: process.env, log, engine },
      options.repo,
    );
  } catch (error) {
    const hint = /** @type {{ hint?: string }} */ (error).hint;
    return fail(
      `cannot list the minis already in "${options.repo}" to check that ${version} is newer: ${messageOf(error)}${hint ? `. ${hint}` : ''}`,
    );
  }
  const newest = tags[0]?.tag;
  const order = newest === undefined ? undefined : compareTagOrder(version, newest);
  if (newest !== undefined && order !== undefined && order <= 0) {
    fail(
      `mini ${version} is not newer than ${newest}, the newest mini in "${options.repo}", so hosts would never run it; check this machine's clock (UTC), or use --force to publish it anyway`,
    );
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
