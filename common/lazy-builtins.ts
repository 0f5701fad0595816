/**
 * Node built-ins that cost start-up time to load, required where first used. esbuild hoists a
 * static import of one to the start of its bundle, so every call would load it; a warm
 * `--local` call needs none of these (node:crypto alone, loaded and used, cost ~10 ms of
 * every call: docs/performance.md). `require` caches, so a second call costs a lookup.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- lazy on purpose, see above */
export const loadCrypto = () => require('node:crypto') as typeof import('node:crypto');
export const loadHttp = () => require('node:http') as typeof import('node:http');
export const loadHttps = () => require('node:https') as typeof import('node:https');
/** ~6 M instructions with the modules it brings (dgram, socket lists): only a call that starts a process needs it. */
export const loadChildProcess = () => require('node:child_process') as typeof import('node:child_process');
