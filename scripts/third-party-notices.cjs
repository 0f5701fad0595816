// @ts-check
// Third-party notices for the bundles scripts/build.mjs writes: which npm packages went
// into a bundle (from esbuild's metafile inputs), and their licences as the packages ship
// them. A bundle keeps none of its packages' own comments (legalComments: 'none'), yet
// MIT, BSD and Apache-2.0 all ask that the licence text travel with every copy; this file
// is that copy, shipped beside each artefact (the npm package, the tiny and mini images).
'use strict';
const fs = require('node:fs');
const path = require('node:path');

/** @typedef {string | { type?: string } | Array<string | { type?: string }>} LicenceField */

/**
 * The package folders that esbuild inputs come from, one per folder, sorted by path.
 * An input belongs to the package under its last `node_modules/` segment (a nested copy,
 * `node_modules/a/node_modules/b/x.js`, is b's own copy, possibly another version);
 * scoped names keep their scope. Inputs outside node_modules (our own code) and those of
 * plugin namespaces (`embedded:dockerode`) name no package.
 * @param {Iterable<string>} inputs metafile input paths, relative to the build's working folder
 * @returns {{ name: string, dir: string }[]} `name` as the path spells it; `dir` relative, with `/`
 */
function selectBundledPackages(inputs) {
  const byDir = new Map();
  for (const input of inputs) {
    const normal = input.replace(/\\/g, '/');
    if (/^[a-z][\w-]*:/i.test(normal) && !/^[a-z]:\//i.test(normal)) continue;
    const match = /^(.*(?:^|\/)node_modules\/)((?:@[^/]+\/)?[^/@][^/]*)\//.exec(normal);
    if (!match) continue;
    const [, prefix, name] = match;
    byDir.set(`${prefix}${name}`, name);
  }
  return [...byDir].map(([dir, name]) => ({ name, dir })).sort((a, b) => (a.dir < b.dir ? -1 : a.dir > b.dir ? 1 : 0));
}

/** Licence and notice files as packages name them: LICENSE, LICENCE.md, COPYING, NOTICE, LICENSE-MIT.txt… (not code). */
const LICENCE_FILE = /^(?:licen[cs]es?|copying|notice)(?:[-_.][\w.-]*)?$/i;
const NOT_A_LICENCE = /\.(?:[cm]?js|[cm]?ts|json|map)$/i;

/**
 * What a package declares and ships about its licence.
 * @param {string} dir the package's folder
 * @returns {{ name: string, version: string, license: string, files: { name: string, text: string }[] }}
 */
function readPackageLicence(dir) {
  const manifest =
    /** @type {{ name?: unknown, version?: unknown, license?: LicenceField, licenses?: LicenceField }} */ (
      JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'))
    );
  const files = fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isFile() && LICENCE_FILE.test(entry.name) && !NOT_A_LICENCE.test(entry.name))
    .map((entry) => entry.name)
    .sort()
    .map((name) => ({ name, text: fs.readFileSync(path.join(dir, name), 'utf8') }));
  return {
    name: String(manifest.name),
    version: String(manifest.version),
    license: describeLicenseField(manifest),
    files,
  };
}

/** The package.json licence field in its current form (an SPDX expression) or the old ones ({type}, licenses: [{type}]).
 *  @param {{ license?: LicenceField, licenses?: LicenceField }} manifest */
function describeLicenseField(manifest) {
  const field = manifest.license ?? manifest.licenses;
  if (typeof field === 'string') return field;
  if (Array.isArray(field))
    return (
      field
        .map((entry) => (typeof entry === 'string' ? entry : entry?.type))
        .filter(Boolean)
        .join(' OR ') || 'not declared'
    );
  if (field && typeof field.type === 'string') return field.type;
  return 'not declared';
}

const RULE = '-'.repeat(79);

/**
 * The notices text for one artefact: run-docker's own licence, then every package once
 * (by name and version), each with its declared licence and the text it ships; a package
 * that ships none says so.
 * @param {{ artefact: string, version: string, ownLicence: string, packages: ReturnType<typeof readPackageLicence>[] }} notices
 */
function formatNotices({ artefact, version, ownLicence, packages }) {
  const unique = new Map(packages.map((pkg) => [`${pkg.name}@${pkg.version}`, pkg]));
  const sorted = [...unique.values()].sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : a.version < b.version ? -1 : 1,
  );
  const lines = [
    `Notices for ${artefact} (run-docker ${version})`,
    '',
    'run-docker is under the MIT licence:',
    '',
    ownLicence.trimEnd(),
    '',
    `It bundles these ${sorted.length} third-party packages, each under its own licence:`,
    '',
    ...sorted.map((pkg) => `  ${pkg.name} ${pkg.version} (${pkg.license})`),
  ];
  for (const pkg of sorted) {
    lines.push('', RULE, `${pkg.name} ${pkg.version}`, `License: ${pkg.license}`);
    if (pkg.files.length === 0) {
      lines.push('', `No licence text was found in the package; its package.json declares "${pkg.license}".`);
    }
    for (const file of pkg.files) lines.push('', `${file.name}:`, '', file.text.replace(/\r\n?/g, '\n').trimEnd());
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Reads the packages behind a bundle's inputs and formats its notices.
 * @param {{ root: string, inputs: Iterable<string>, artefact: string, version: string, ownLicence: string }} options
 */
function buildNotices({ root, inputs, artefact, version, ownLicence }) {
  const packages = selectBundledPackages(inputs).map(({ dir }) => readPackageLicence(path.resolve(root, dir)));
  return { text: formatNotices({ artefact, version, ownLicence, packages }), packages };
}

module.exports = { selectBundledPackages, readPackageLicence, formatNotices, buildNotices };
