/**
 * Pure: which platforms an image in a registry is for, and whether one of them runs on the
 * engine's. An index (OCI image index, Docker manifest list) lists its platforms; a single
 * image manifest says it in its config blob (`os`, `architecture`, `variant`).
 * OCI image spec: https://github.com/opencontainers/image-spec/blob/main/image-index.md and
 * config.md; Docker's manifest list: https://distribution.github.io/distribution/spec/manifest-v2-2/
 */

export interface ImagePlatform {
  os: string;
  architecture: string;
  variant?: string;
}

export const INDEX_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
];
export const IMAGE_MANIFEST_TYPES = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
];
/** The Accept header of a manifest request: an index when there is one, else the image's own. */
export const MANIFEST_ACCEPT = [...INDEX_TYPES, ...IMAGE_MANIFEST_TYPES].join(', ');

/** What a manifest says: the platforms of an index, or where the one image's config is. */
export type ManifestFacts = { kind: 'index'; platforms: ImagePlatform[] } | { kind: 'image'; configDigest: string };

/**
 * The facts of a manifest answer (its Content-Type, else its own `mediaType`), or undefined
 * when it is neither an index nor an image manifest run-docker can read.
 * Index entries without a platform, and attestations (`unknown/unknown`, BuildKit's), are left out.
 */
export function readManifest(contentType: string | null, text: string): ManifestFacts | undefined {
  let json: { mediaType?: unknown; manifests?: unknown; config?: { digest?: unknown } };
  try {
    json = JSON.parse(text) as typeof json;
  } catch {
    return undefined;
  }
  if (typeof json !== 'object' || json === null) return undefined;
  // The Content-Type when it names a manifest; else (a registry or proxy that says application/json) the body's own.
  const header = (contentType ?? '').split(';')[0]?.trim() ?? '';
  const type = [...INDEX_TYPES, ...IMAGE_MANIFEST_TYPES].includes(header)
    ? header
    : typeof json.mediaType === 'string'
      ? json.mediaType
      : '';
  if (INDEX_TYPES.includes(type) || (type === '' && Array.isArray(json.manifests))) {
    const entries = Array.isArray(json.manifests) ? (json.manifests as Array<{ platform?: unknown }>) : [];
    const platforms = entries
      .map((entry) => readPlatform(entry?.platform))
      .filter((platform): platform is ImagePlatform => platform !== undefined && platform.os !== 'unknown');
    return { kind: 'index', platforms };
  }
  if (IMAGE_MANIFEST_TYPES.includes(type) || (type === '' && json.config !== undefined)) {
    const digest = json.config?.digest;
    return typeof digest === 'string' && /^sha256:[0-9a-f]{64}$/.test(digest)
      ? { kind: 'image', configDigest: digest }
      : undefined;
  }
  return undefined;
}

/** The platform of an image config blob (`os`, `architecture`, `variant` at its top). */
export function readConfigPlatform(text: string): ImagePlatform | undefined {
  try {
    return readPlatform(JSON.parse(text));
  } catch {
    return undefined;
  }
}

function readPlatform(value: unknown): ImagePlatform | undefined {
  const { os, architecture, variant } = (value ?? {}) as Record<string, unknown>;
  if (typeof os !== 'string' || typeof architecture !== 'string' || !os || !architecture) return undefined;
  return typeof variant === 'string' && variant ? { os, architecture, variant } : { os, architecture };
}

/** `uname -m` as engines report it in /info's `Architecture`, to Go's GOARCH names that images use. */
const ARCHITECTURES: Record<string, ImagePlatform['architecture']> = {
  x86_64: 'amd64',
  amd64: 'amd64',
  aarch64: 'arm64',
  arm64: 'arm64',
  armv7l: 'arm',
  armv6l: 'arm',
  i386: '386',
  i686: '386',
  ppc64le: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
};

/** The engine's platform from its GET /info (`OSType`, `Architecture`), or undefined when it does not say. */
export function readEnginePlatform(info: unknown): ImagePlatform | undefined {
  const { OSType, Architecture } = (info ?? {}) as Record<string, unknown>;
  if (typeof OSType !== 'string' || typeof Architecture !== 'string') return undefined;
  const architecture = ARCHITECTURES[Architecture];
  if (architecture === undefined) return undefined;
  const variant = Architecture === 'armv7l' ? 'v7' : Architecture === 'armv6l' ? 'v6' : undefined;
  return variant ? { os: OSType, architecture, variant } : { os: OSType, architecture };
}

/**
 * Whether an image for `image` runs on `engine`: the same os and architecture, and for arm
 * a variant the engine's can run (v7 runs v6 and v5; arm64's `v8` is its only one, written or not).
 */
export function runsOn(image: ImagePlatform, engine: ImagePlatform): boolean {
  if (image.os !== engine.os || image.architecture !== engine.architecture) return false;
  if (image.architecture !== 'arm' || image.variant === undefined || engine.variant === undefined) return true;
  return Number(image.variant.slice(1)) <= Number(engine.variant.slice(1));
}

/** `linux/arm64`, `linux/arm/v7`. */
export function formatPlatform(platform: ImagePlatform): string {
  return [platform.os, platform.architecture, ...(platform.variant ? [platform.variant] : [])].join('/');
}
