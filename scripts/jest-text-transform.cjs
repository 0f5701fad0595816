// @ts-check
// Jest transform for the completion scripts' templates (payload/run/completion/*.bash, .zsh):
// a module whose default export is the file's text, as esbuild's text loader makes it in the
// bundles (scripts/build.mjs). Unit tests thus run the same TypeScript, importing the same files.
module.exports = {
  /** @param {string} sourceText */
  process(sourceText) {
    return { code: `module.exports = ${JSON.stringify(sourceText)};` };
  },
};
