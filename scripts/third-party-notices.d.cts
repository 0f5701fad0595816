// Types of scripts/third-party-notices.cjs, for TypeScript tests.

export interface BundledPackage {
  /** As the path spells it (scoped names keep their scope). */
  name: string;
  /** The package's folder, as the input paths give it, with `/`. */
  dir: string;
}

export interface PackageLicence {
  name: string;
  version: string;
  /** package.json's licence field (an SPDX expression, or the old forms joined with OR), or "not declared". */
  license: string;
  /** LICENSE, LICENCE, COPYING, NOTICE… files in the package's folder, sorted by name. */
  files: { name: string; text: string }[];
}

export function selectBundledPackages(inputs: Iterable<string>): BundledPackage[];
export function readPackageLicence(dir: string): PackageLicence;
export function formatNotices(notices: {
  artefact: string;
  version: string;
  ownLicence: string;
  packages: PackageLicence[];
}): string;
export function buildNotices(options: {
  root: string;
  inputs: Iterable<string>;
  artefact: string;
  version: string;
  ownLicence: string;
}): {
  text: string;
  packages: PackageLicence[];
};
