// Types of scripts/hostile-minis.cjs, for TypeScript tests. Each resolves to the image ID.

type Labels = { labels?: Record<string, string> };

/** A layer that starts with a gzip header (a valid tar for the engine) and inflates to `inflatesTo` bytes as gzip. */
export function importGzipHeaderBomb(reference: string, options: { inflatesTo: number } & Labels): Promise<string>;
/** `count` files of `bytes` each in the payload folder, no manifest. */
export function importBigFiles(reference: string, options: { count: number; bytes: number } & Labels): Promise<string>;
/** A manifest.json of `bytes` spaces. */
export function importHugeManifest(reference: string, options: { bytes: number } & Labels): Promise<string>;
/** A manifest matching its label that names an entry of `bytes` with its right sha256 (unsigned). */
export function importHugeEntry(
  reference: string,
  options: { bytes: number; version?: string } & Labels,
): Promise<string>;
/** `count` empty files with names of `nameLength` characters in the payload folder. */
export function importEndlessEntries(
  reference: string,
  options: { count: number; nameLength: number } & Labels,
): Promise<string>;
/** `bytes` outside the payload folder (read through a container), and a manifest that does not match its label. */
export function importHugeImage(reference: string, options: { bytes: number } & Labels): Promise<string>;
