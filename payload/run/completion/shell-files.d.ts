// The completion scripts' templates, imported as text: esbuild's text loader in the bundles
// (scripts/build.mjs) and a Jest transform that does the same in the unit tests
// (scripts/jest-text-transform.cjs).
declare module '*.bash' {
  const text: string;
  export default text;
}
declare module '*.zsh' {
  const text: string;
  export default text;
}
