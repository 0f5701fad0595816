// @ts-check
// Preloaded by scripts/benchmark.mjs into the shim's process (node --require): records the
// process's peak resident set size when it exits, even through process.exit().
const { writeFileSync } = require('node:fs');
process.on('exit', () => {
  if (process.env.BENCH_MAX_RSS_FILE)
    writeFileSync(process.env.BENCH_MAX_RSS_FILE, String(process.resourceUsage().maxRSS));
});
