/**
 * The shim ↔ payload contract, version 2 (docs/contract.md explains every item, and what
 * changed from version 1). Types and constants only (and the one function that defines what
 * a signature covers), here and in engine-client.ts: the frozen shim and every payload
 * bundle their own copy, so anything here can never change meaning within one contract version.
 */
import type { EngineClient } from './engine-client';

export type {
  BindSourcesAnswer,
  ContainerSpec,
  ContainerSummary,
  EngineClient,
  EngineIdentity,
  EnginePullOptions,
  ImageDetails,
  PullEvent,
  RegistryAuth,
} from './engine-client';

export const CONTRACT_VERSION = 2;

/** Folder inside tiny and mini images that holds the manifest and the payload. */
export const PAYLOAD_DIR = '/run-docker';
export const MANIFEST_FILE = 'manifest.json';
/** Folder inside the tiny image that holds the shim's own bundle, for installing it. */
export const SHIM_DIR = '/run-docker-shim';

/** Image labels. The image ID is the sha256 of the image config that holds them, so they
 *  cannot be changed without changing the ID: the cache trusts them, not its own files. */
export const LABEL = {
  manifestSha256: 'org.run-docker.manifest.sha256',
  contract: 'org.run-docker.contract',
  kind: 'org.run-docker.kind',
  version: 'org.opencontainers.image.version',
  revision: 'org.opencontainers.image.revision',
} as const;

/** As `docker run`: 125 means run-docker itself failed; anything else is the container's. */
export const EXIT_RUN_DOCKER_FAILURE = 125;

export type PayloadKind = 'tiny' | 'mini';

export interface PayloadManifest {
  contract: number;
  kind: PayloadKind;
  /** tiny: semver of the package; mini: UTC `YYYYMMDD-HHMMSS` unless given. */
  version: string;
  /** File name of the entry, beside the manifest. */
  entry: string;
  /** Lower-case hex sha256 of the entry file. */
  sha256: string;
  /** semver range of shim versions this payload runs under. */
  shim: string;
  /** ed25519 signature (base64) of signedPayloadText(manifest), by the key `keyId`; null if unsigned. */
  signature: { keyId: string; value: string } | null;
  /** tiny only: the public keys trusted to sign mini payloads. Pinning tiny by digest pins them. */
  trustedKeys?: TrustedKey[];
  /**
   * mini only, optional (added within contract version 1; older minis lack it): the build
   * payload (`build-docker`) beside the run payload, with its own signature so that shims
   * that predate it still verify `signature` exactly as before.
   */
  build?: BuildEntry;
  /**
   * mini only, optional (added within contract version 2, shim 0.2.0; older shims ignore
   * it): a staged rollout, covered by `signature` (signedPayloadText then starts
   * `run-docker-payload-v2`), so nobody who can push but holds no key can strip it. A mini
   * without it is for every host at once. docs/releasing.md.
   */
  rollout?: Rollout;
  /** mini only, optional (as `rollout`): earlier versions this mini halts, signed on their own. */
  halts?: HaltStatement;
  /** mini only, optional (as `rollout`): every key rotation so far, oldest first, each signed on its own. */
  keys?: KeyStatement[];
}

/** A staged rollout: from `start`, each step admits the hosts whose bucket (0–99) is below its percentage. */
export interface Rollout {
  /** When the schedule began (the publish time), UTC, `YYYY-MM-DDTHH:MM:SSZ`. */
  start: string;
  /** At least one; times strictly increasing, percentages never decreasing. */
  steps: RolloutStep[];
}

export interface RolloutStep {
  /** 0–100: hosts with a bucket below it are admitted. */
  percent: number;
  /** Whole seconds after `start` from which this step applies. */
  afterSeconds: number;
}

/** Versions (lower than the mini's own) that no host which has seen this statement runs again. */
export interface HaltStatement {
  versions: string[];
  /** ed25519 (base64) of signedHaltsText(manifest) by the key `keyId`; null if unsigned (then ignored). */
  signature: { keyId: string; value: string } | null;
}

/** A key rotation: keys that may sign minis from now on, and key IDs that never may again. */
export interface KeyStatement {
  add: TrustedKey[];
  retire: string[];
  /** ed25519 (base64) of signedKeyStatementText(statement), by a key the host trusted before it. */
  signature: { keyId: string; value: string } | null;
}

export interface BuildEntry {
  /** File name of the build payload's entry, beside the manifest. */
  entry: string;
  /** Lower-case hex sha256 of that file. */
  sha256: string;
  /** ed25519 signature (base64) of signedBuildPayloadText(manifest), by the key `keyId`; null if unsigned. */
  signature: { keyId: string; value: string } | null;
}

export interface TrustedKey {
  /** First 16 hex digits of the sha256 of the DER SubjectPublicKeyInfo. */
  keyId: string;
  /** DER SubjectPublicKeyInfo, base64. */
  publicKey: string;
}

/**
 * What a payload signature covers: every manifest field but the signature itself (and the
 * separately signed `build`, `halts` and `keys`). A mini with a rollout is signed over the
 * v2 text, which adds the schedule: stripping or changing the schedule breaks the signature
 * either way, and shims before 0.2.0 (which know only v1) never verify such a mini.
 */
export function signedPayloadText(manifest: Omit<PayloadManifest, 'signature' | 'trustedKeys'>): string {
  const fields = [manifest.contract, manifest.kind, manifest.version, manifest.entry, manifest.sha256, manifest.shim];
  if (manifest.rollout === undefined) return ['run-docker-payload-v1', ...fields].join('\n');
  return [
    'run-docker-payload-v2',
    ...fields,
    manifest.rollout.start,
    manifest.rollout.steps.map((step) => `${step.percent}%@${step.afterSeconds}s`).join(','),
  ].join('\n');
}

/** What a halt statement's signature covers: the mini that carries it and the versions it halts. */
export function signedHaltsText(
  manifest: Pick<PayloadManifest, 'contract' | 'kind' | 'version'> & { halts: Pick<HaltStatement, 'versions'> },
): string {
  return [
    'run-docker-halts-v1',
    manifest.contract,
    manifest.kind,
    manifest.version,
    manifest.halts.versions.join(','),
  ].join('\n');
}

/**
 * What a key statement's signature covers: the keys it adds and the key IDs it retires.
 * Bound to no mini on purpose: every later mini carries the whole chain, so a fresh host
 * can follow it from its tiny's keys.
 */
export function signedKeyStatementText(statement: Pick<KeyStatement, 'add' | 'retire'>): string {
  return [
    'run-docker-keys-v1',
    statement.add.map((key) => `${key.keyId}=${key.publicKey}`).join(','),
    statement.retire.join(','),
  ].join('\n');
}

/**
 * What a build payload's signature covers: the manifest's fields with the build entry in place
 * of the run entry, under its own first line, so neither signature can stand in for the other.
 */
export function signedBuildPayloadText(
  manifest: Omit<PayloadManifest, 'signature' | 'trustedKeys' | 'build'> & { build: Omit<BuildEntry, 'signature'> },
): string {
  return [
    'run-docker-build-payload-v1',
    manifest.contract,
    manifest.kind,
    manifest.version,
    manifest.build.entry,
    manifest.build.sha256,
    manifest.shim,
  ].join('\n');
}

export interface Logger {
  /** One line to stderr, prefixed `run-docker: warning:`. */
  warn(line: string): void;
  /** Only when RUN_DOCKER_DEBUG is set. */
  debug(line: string): void;
}

/** What every payload gets from the shim. */
export interface BaseContext {
  contract: number;
  shimVersion: string;
  /** No network: only images already on the host. */
  local: boolean;
  env: Readonly<Record<string, string | undefined>>;
  log: Logger;
  /** The engine the shim connected to (same DOCKER_HOST and context rules as the docker CLI). */
  engine: EngineClient;
  /**
   * Private cache folder for the payloads' own use (0700, checked by the shim), the same as
   * RunContext.cacheDir; the locator keeps registry tokens there. Absent from shims before
   * it was added: payloads then keep such things in memory only.
   */
  cacheDir?: string;
  /**
   * Optional and versioned (added within contract version 2; older shims never set it, older
   * payloads ignore it): the docker CLI's configuration as the shim read and checked it for
   * this call, so that payloads take the same values and read nothing again. A payload that
   * finds it absent, or of a `version` it does not know, reads the files itself.
   */
  docker?: DockerSettings;
  /**
   * Optional (added within contract version 2 with Podman support; older shims never set
   * it): the engine's address as the shim reached it (DOCKER_HOST, a docker context, the
   * default socket, or a Podman socket it found when there was no usable Docker socket), so
   * that the CLI a payload starts speaks to the same engine, and caches are kept per engine.
   */
  endpoint?: EngineEndpointInUse;
  /**
   * Optional, likewise: the `cli` setting (`RUN_DOCKER_CLI`, else the config files), which CLI
   * runs containers; absent when nothing sets it, and the run payload then chooses.
   */
  cli?: { value: EngineCli; source: string };
  /**
   * Optional (added within contract version 2; older shims never set it): run-docker's own
   * config files as the shim read and checked them for this call (docs/configuration.md),
   * highest precedence first, only those present. Payloads take their own settings from
   * here (`engines`); a payload that finds it absent has none of them.
   */
  configFiles?: ReadonlyArray<{ path: string; content: unknown }>;
}

/** BaseContext.docker, version 1. */
export interface DockerSettings {
  version: 1;
  /** docker's config.json, as loaded (common/load-docker-config.ts). */
  config: DockerConfigSnapshot;
  /** The address of the engine the shim connected to (`unix:///var/run/docker.sock`, `tcp://…`): the key of cached engine answers. */
  engineHost: string;
}

/**
 * `$DOCKER_CONFIG/config.json` (default `~/.docker/config.json`), read once: bounded, never
 * blocking, and refused outright when someone else than the user (or root) could have
 * written it (docs/trust.md).
 */
export interface DockerConfigSnapshot {
  /** The docker CLI's configuration folder: `$DOCKER_CONFIG`, else `~/.docker`. Contexts live there. */
  dir: string;
  /** Its config.json. */
  file: string;
  /** The parsed file; undefined when it is absent or cannot be used (then `problem` says why). */
  content: Readonly<Record<string, unknown>> | undefined;
  /** Why the file is not used, completing "it …": `is not valid JSON`, `is not a regular file (a FIFO)`. */
  problem?: string;
}

/** The CLIs run-docker knows how to start containers with. */
export type EngineCli = 'docker' | 'podman';

export interface EngineEndpointInUse {
  /** `unix:///path`, `tcp://host:port`, `ssh://user@host`, `npipe:…`; never a password. */
  host: string;
  /** What chose it: `default`, `DOCKER_HOST`, `context "NAME" (…)`, `Podman socket (…)`, `podman system service (…)`. */
  source: string;
  /**
   * Set when the shim found the engine itself (a Podman socket, or a Podman service it
   * started for this call): the docker CLI would not find it, so it must be told (DOCKER_HOST).
   */
  found?: 'podman-socket' | 'podman-service';
}

export interface LocatedTag {
  tag: string;
  /** Whether `repository:tag` is already on the host; if not, the caller pulls it. */
  presentLocally: boolean;
}

/** Exports of the tiny payload's entry. */
export interface LocatorModule {
  /** Newest usable tag, local + registry (or local only with ctx.local). Falls back to
   *  local tags with one warning when the registry cannot be reached. */
  findNewestTag(ctx: BaseContext, repository: string): Promise<LocatedTag>;
  /** Tags of `repository` among local images, newest first, usable tags only. */
  listLocalTagsNewestFirst(ctx: BaseContext, repository: string): Promise<string[]>;
  /** Optional: older tinies lack it, and the shim then falls back to listLocalTagsNewestFirst.
   *  Every usable tag, local + registry (local only with ctx.local), newest first, no
   *  duplicates. An unreachable registry: one warning, local tags. No tag: an empty list. */
  listTagsNewestFirst?(ctx: BaseContext, repository: string): Promise<LocatedTag[]>;
}

export interface ImageInUse {
  /** The reference the shim resolved, e.g. `127.0.0.1:5000/run-docker/mini:20261128-101500`. */
  reference: string;
  /** Image ID, `sha256:…`. */
  id: string;
  /** The manifest's version. */
  version: string;
}

export interface RunContext extends BaseContext {
  /** The user's arguments, untouched (including any `--local`). */
  argv: string[];
  /** Private cache folder for the payload's own use. */
  cacheDir: string;
  tiny: ImageInUse;
  mini: ImageInUse;
  /**
   * Optional (older shims never set it; older minis ignore it): present when the payload
   * running is the one built into the shim rather than a mini from an image. `reason`
   * completes "built into shim <version> (…)", e.g. "no tiny configured". `tiny` and `mini`
   * then read `built-in` with the shim's version.
   */
  payloadSource?: { builtIn: true; reason: string };
  /**
   * Optional (added within contract version 2, shim 0.2.0; older shims never set it, older
   * minis ignore it): this host's place in staged rollouts of the mini repository and why
   * this mini was chosen, for `--version`. docs/releasing.md.
   */
  release?: ReleaseFacts;
}

export interface ReleaseFacts {
  channel: 'stable' | 'canary';
  /** 0–99, stable per host and mini repository (canary: 0). */
  bucket: number;
  /** Why this mini runs, e.g. `newest, admitted (at 50%)` or `20261203-000000 waits for this host (at 25%)`. */
  reason: string;
}

/** Exports of the mini payload's entry. Resolves to the process exit code. */
export interface MiniModule {
  main(ctx: RunContext): Promise<number>;
}

/** Exports of the mini's build payload (`build-docker`), when its manifest names one. Resolves to the exit code. */
export interface BuildModule {
  main(ctx: RunContext): Promise<number>;
}

/** An error meant for the user: thrown by the shim or a payload, printed as one line.
 *  Recognised by `name` (not instanceof): each bundle has its own copy of the class. */
export interface UserFacingError {
  name: 'RunDockerError';
  message: string;
  hint: string;
  exitCode: number;
}
