// Loaded with `node --require` (NODE_OPTIONS): at exit, writes the Node built-in modules the
// process loaded, one per line, to the file in RECORD_BUILTINS_FILE. Node's own list, so
// it sees a built-in whoever required it (the shim's bundle or a payload).
'use strict';
const { writeFileSync } = require('node:fs');

process.on('exit', () => {
  const names = process.moduleLoadList
    .filter((entry) => entry.startsWith('NativeModule '))
    .map((entry) => entry.slice('NativeModule '.length));
  writeFileSync(process.env.RECORD_BUILTINS_FILE, `${names.join('\n')}\n`);
});
