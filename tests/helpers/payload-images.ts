/**
 * tiny and mini images for the fake engine (fake-engine.ts), built the way scripts/publish
 * builds them: a manifest with the entry's sha256 and the shim range, signed with an ed25519
 * key, and the manifest's digest in the image label. The entries are small CommonJS sources
 * that report to the test what ran (takeRuns) instead of bundles.
 */
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import {
  CONTRACT_VERSION,
  LABEL,
  signedHaltsText,
  signedKeyStatementText,
  signedPayloadText,
  type KeyStatement,
  type LocatorModule,
  type PayloadManifest,
  type Rollout,
  type RunContext,
  type TrustedKey,
} from '../../contract/contract';
import type { FakeImage } from './fake-engine';

const sha256 = (bytes: string | Buffer) => createHash('sha256').update(bytes).digest('hex');

export interface SigningKey {
  privateKey: KeyObject;
  trusted: TrustedKey;
}

export function makeSigningKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return { privateKey, trusted: { keyId: sha256(der).slice(0, 16), publicKey: der.toString('base64') } };
}

export interface PayloadImageOptions {
  version: string;
  /** Default: CONTRACT_VERSION. */
  contract?: number;
  /** Default: any shim. */
  shim?: string;
  /** Unsigned without one. */
  signer?: SigningKey;
  /** Signed as this version instead (an older mini pushed again under a newer tag). */
  signedVersion?: string;
  trustedKeys?: TrustedKey[];
  /** Replaces the entry after signing (a tampered image). */
  tamperedEntry?: string;
  size?: number;
  /** A staged rollout, signed with the payload (v2 text) unless `unsignedRollout`. */
  rollout?: Rollout;
  /** The rollout is added after signing (as someone who can push but has no key would). */
  unsignedRollout?: boolean;
  /** A halt statement of these versions, signed by `by` (unsigned without it). */
  halts?: { versions: string[]; by?: SigningKey };
  /** Key statements, as keyStatement() makes them. */
  keys?: KeyStatement[];
}

/** A key statement adding `add` and retiring `retire`, signed by `by` (unsigned without it). */
export function keyStatement(add: SigningKey[], retire: string[], by?: SigningKey): KeyStatement {
  const statement = { add: add.map((key) => key.trusted), retire };
  return {
    ...statement,
    signature: by
      ? {
          keyId: by.trusted.keyId,
          value: sign(null, Buffer.from(signedKeyStatementText(statement)), by.privateKey).toString('base64'),
        }
      : null,
  };
}

function payloadImage(kind: 'tiny' | 'mini', entry: string, source: string, options: PayloadImageOptions): FakeImage {
  const version = options.signedVersion ?? options.version;
  const unsigned = {
    contract: options.contract ?? CONTRACT_VERSION,
    kind,
    version,
    entry,
    sha256: sha256(source),
    shim: options.shim ?? '>=0.0.0',
    ...(options.rollout && !options.unsignedRollout ? { rollout: options.rollout } : {}),
  };
  const { halts } = options;
  const manifest: PayloadManifest = {
    ...unsigned,
    ...(options.rollout && options.unsignedRollout ? { rollout: options.rollout } : {}),
    ...(halts
      ? {
          halts: {
            versions: halts.versions,
            signature: halts.by
              ? {
                  keyId: halts.by.trusted.keyId,
                  value: sign(null, Buffer.from(signedHaltsText({ ...unsigned, halts })), halts.by.privateKey).toString(
                    'base64',
                  ),
                }
              : null,
          },
        }
      : {}),
    ...(options.keys ? { keys: options.keys } : {}),
    signature: options.signer
      ? {
          keyId: options.signer.trusted.keyId,
          value: sign(null, Buffer.from(signedPayloadText(unsigned)), options.signer.privateKey).toString('base64'),
        }
      : null,
    ...(options.trustedKeys ? { trustedKeys: options.trustedKeys } : {}),
  };
  const manifestBytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
  return {
    labels: {
      [LABEL.manifestSha256]: sha256(manifestBytes),
      [LABEL.kind]: kind,
      [LABEL.contract]: String(unsigned.contract),
      [LABEL.version]: version,
    },
    files: { '/run-docker/manifest.json': manifestBytes, [`/run-docker/${entry}`]: options.tamperedEntry ?? source },
    ...(options.size === undefined ? {} : { size: options.size }),
  };
}

/**
 * The payloads report what ran as a debug line, `ran mini <reference>` (or `ran built-in
 * (<reason>)`): they are compiled in Node's main context, where this file's globals are not.
 */
export const RAN = /^ran /;

/** A mini whose payload says `ran mini <reference>` and exits with `exitCode`. */
export function miniImage(options: PayloadImageOptions & { exitCode?: number }): FakeImage {
  // The version in a comment: each mini's entry is its own, as each publish bundles its own.
  // `release …`: what the shim says of rollouts, for --version (RunContext.release).
  const source = `// ${options.version}\nexports.main = async (ctx) => { ctx.log.debug('ran mini ' + ctx.mini.reference); if (ctx.release) ctx.log.debug('release ' + JSON.stringify(ctx.release)); return ${options.exitCode ?? 0}; };\n`;
  return payloadImage('mini', 'run.js', source, options);
}

const LOCATOR = Symbol.for('run-docker.test.locator');

/** A tiny whose locator is the one useLocator gave its engine (a global symbol reaches across contexts). */
export function tinyImage(options: PayloadImageOptions): FakeImage {
  const call = (name: string) =>
    `exports.${name} = (ctx, repository) => ctx.engine[Symbol.for('run-docker.test.locator')].${name}(ctx, repository);`;
  const source = `${['findNewestTag', 'listLocalTagsNewestFirst', 'listTagsNewestFirst'].map(call).join('\n')}\n`;
  return payloadImage('tiny', 'locate.js', source, options);
}

/** The locator the tiny images of this file run on `engine`. */
export function useLocator(engine: object, locator: LocatorModule): void {
  (engine as { [LOCATOR]?: LocatorModule })[LOCATOR] = locator;
}

/** The built-in payload as runShim takes it, saying `ran built-in (<reason>)`. */
export function builtInRun() {
  return {
    main: async (ctx: RunContext) => {
      ctx.log.debug(`ran built-in (${ctx.payloadSource?.reason ?? 'no reason'})`);
      if (ctx.release) ctx.log.debug(`release ${JSON.stringify(ctx.release)}`);
      return 0;
    },
  };
}
