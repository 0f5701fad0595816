/**
 * The installed `run-docker` file, one file still: shim/loader.ts, a marker line, the shim's
 * bundle wrapped as a function on one line comment, then each large string of the bundle (the
 * modules compiled on first use and the built-in payloads, base64) on a line comment of its
 * own. Node reads the whole file and skims the comments. The loader reads only the bundle's
 * line, found by its place from the end of the file, and compiles it with its code cache; a
 * string's line is read only when the bundle asks for it (`shimLoader.blob(i)`).
 *
 * Why: the loader used to read the whole ~440 kB file again, decode it, strip the comment
 * marks and wrap the result, four copies of it, ~6 ms of every call on a VM where fresh memory
 * is slow (docs/performance.md). The bundle's line is ~100 kB and is compiled as read.
 * scripts/build.mjs writes the file (packShimTail); the loader reads it (locateShimParts).
 */

export const BUNDLE_MARKER =
  '//# run-docker shim bundle: the next line is the bundle, each line after it one of its large strings';

/** The bundle's line starts with these (after "//"): Node's CommonJS wrapper and the loader's handle. */
export const WRAPPER_HEAD = '(function (exports, require, module, __filename, __dirname, shimLoader) {';
export const WRAPPER_TAIL = '})';

/** Where the parts are, from the end of the file: what the loader is built with. */
export interface ShimLayout {
  /** Lines before the bundle's line (its line offset in stack traces). */
  bundleLine: number;
  /** Length of the bundle's line without its "//" and newline. */
  bundleBytes: number;
  /** The same for each large string's line, in order. */
  blobBytes: number[];
}

/** A string literal this long of base64 is carried on its own line. */
const BLOB = /"([A-Za-z0-9+/]{1024,}={0,2})"/g;

/**
 * Pure: what follows the loader in the installed file for `bundle` (esbuild's minified output
 * with template literals lowered, so one line), and its layout. `linesBefore`: the lines of
 * the file before the marker line. Each large base64 string literal is replaced by a call of
 * `shimLoader.blob(i)` and carried on a line of its own.
 */
export function packShimTail(
  bundle: string,
  linesBefore: number,
): { tail: string; layout: ShimLayout; compiled: string } {
  const code = bundle.trimEnd();
  if (/[\n\r\u2028\u2029]/.test(code))
    throw new Error(
      'the bundle is more than one line; build it with template literals lowered (esbuild supported: { "template-literal": false })',
    );
  // The loader reads the file as latin1, which is UTF-8 only for ASCII (esbuild's default charset).
  // eslint-disable-next-line no-control-regex -- the ASCII range, NUL included, is what it checks for
  if (/[^\x00-\x7f]/.test(code)) throw new Error("the bundle is not ASCII; build it with esbuild's default charset");
  const blobs: string[] = [];
  const compiled = `${WRAPPER_HEAD}${code.replace(BLOB, (_literal, base64: string) => `shimLoader.blob(${blobs.push(base64) - 1})`)}${WRAPPER_TAIL}`;
  const tail = [BUNDLE_MARKER, ...[compiled, ...blobs].map((line) => `//${line}`)].join('\n');
  return {
    tail: `${tail}\n`,
    compiled,
    layout: { bundleLine: linesBefore + 1, bundleBytes: compiled.length, blobBytes: blobs.map((blob) => blob.length) },
  };
}

/** Pure: the byte offsets of the bundle's line and of each string's line (their "//" included), or undefined when the file is too short. */
export function locateShimParts(
  fileSize: number,
  layout: ShimLayout,
): { bundleAt: number; blobsAt: number[] } | undefined {
  const lineBytes = (bytes: number) => 2 + bytes + 1;
  let at =
    fileSize - lineBytes(layout.bundleBytes) - layout.blobBytes.reduce((sum, bytes) => sum + lineBytes(bytes), 0);
  if (at < 0) return undefined;
  const bundleAt = at;
  at += lineBytes(layout.bundleBytes);
  const blobsAt = layout.blobBytes.map((bytes) => {
    const start = at;
    at += lineBytes(bytes);
    return start;
  });
  return { bundleAt, blobsAt };
}

/** Pure: the bundle's source from its line as read (with its "//"), or undefined when that is not the bundle's line. */
export function readBundleLine(line: string): string | undefined {
  if (!line.startsWith(`//${WRAPPER_HEAD}`) || !line.endsWith(WRAPPER_TAIL)) return undefined;
  return line.slice(2);
}
