/**
 * The sizes of a payload folder as scripts/publish is about to build it into an image, held to
 * the bounds its readers keep (docs/contract.md, "Limits"): every shim reads a manifest and the
 * files it names within MANIFEST_LIMIT_BYTES and PAYLOAD_FILE_LIMIT_BYTES and refuses an image
 * past them, whatever its signature; publish reads a published mini's notices within
 * NOTICES_LIMIT_BYTES to republish it. A mini past one of them would be refused by every host,
 * each call, fleet-wide: publish refuses it first. The bounds are the readers' own constants,
 * so they cannot drift apart.
 */
import type { PayloadManifest } from '../contract/contract';
import { MANIFEST_FILE } from '../contract/contract';
import { formatBytes } from '../common/read-tar-files';
import { EXPORT_LIMIT_BYTES } from '../shim/export-image-files';
import { MANIFEST_LIMIT_BYTES, PAYLOAD_FILE_LIMIT_BYTES } from '../shim/read-image-payload';

/** docs/contract.md: beside the payload, never read by a shim. */
export const NOTICES = 'THIRD-PARTY-NOTICES.txt';
/** What publish reads of a published mini's notices to republish it (release-support.ts). */
export const NOTICES_LIMIT_BYTES = 1024 * 1024;

/** One file of the payload folder: its name there, its size, and where publish took it from (for messages). */
export interface PayloadFile {
  name: string;
  bytes: number;
  from: string;
}

/** What the sizes say: a refusal (nothing may be built), or a warning (it may, hosts read it the slow way). */
export interface PayloadSizeVerdict {
  refusal?: string;
  warning?: string;
}

/** A bound on one file of the payload folder: who reads it within it, and what follows past it. */
interface FileBound {
  limit: number;
  reader: string;
  then: string;
}

/** Pure: the bound `name` is read within, or undefined for a file no reader bounds (a shim never reads tiny's notices). */
function selectFileBound(
  name: string,
  manifest: Pick<PayloadManifest, 'kind' | 'entry' | 'build'>,
): FileBound | undefined {
  const refused = `every host would refuse this ${manifest.kind}`;
  if (name === MANIFEST_FILE)
    return { limit: MANIFEST_LIMIT_BYTES, reader: 'every shim reads a manifest with', then: refused };
  if (name === manifest.entry)
    return { limit: PAYLOAD_FILE_LIMIT_BYTES, reader: 'every shim reads an entry with', then: refused };
  if (name === manifest.build?.entry)
    return {
      limit: PAYLOAD_FILE_LIMIT_BYTES,
      reader: 'every shim reads a build entry with',
      then: `build-docker would refuse this ${manifest.kind} on every host`,
    };
  if (name === NOTICES && manifest.kind === 'mini')
    return {
      limit: NOTICES_LIMIT_BYTES,
      reader: "publish reads a published mini's notices with",
      then: 'it could never be republished (--from, halt, rotate-key)',
    };
  return undefined;
}

/**
 * Pure: the first file of `files` past its reader's bound, as one line naming it, its size and
 * the bound; else, when the folder as a whole is larger than the images a shim reads from their
 * export (not a refusal: hosts copy it out of a created container instead), a warning.
 */
export function checkPayloadSizes(
  files: readonly PayloadFile[],
  manifest: Pick<PayloadManifest, 'kind' | 'entry' | 'build'>,
): PayloadSizeVerdict {
  for (const file of files) {
    const bound = selectFileBound(file.name, manifest);
    if (bound && file.bytes > bound.limit)
      return {
        refusal: `the payload file "${file.name}" (${file.from}) is ${file.bytes} bytes, over the ${formatBytes(bound.limit)} (${bound.limit} bytes) ${bound.reader}: ${bound.then}`,
      };
  }
  const total = files.reduce((sum, file) => sum + file.bytes, 0);
  if (total > EXPORT_LIMIT_BYTES)
    return {
      warning: `the payload folder is ${total} bytes, over the ${formatBytes(EXPORT_LIMIT_BYTES)} of an image a shim reads from its export: hosts will copy it out of a created container instead, which is slower`,
    };
  return {};
}
