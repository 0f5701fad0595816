// @ts-check
// Preloaded by scripts/benchmark.mjs into the shim's process (node --require): records the
// process's peak resident set size (KiB) when it exits, even through process.exit().
// VmHWM from /proc where there is one: getrusage's maxRSS survives exec on Linux, so a child
// of a large process (a benchmark that built large images) reported its parent's peak.
const { readFileSync, writeFileSync } = require('node:fs');

/** @returns {number} */
function peakKiB() {
  try {
    const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (hwm) return Number(hwm[1]);
  } catch {
    // Not Linux: maxRSS, as it was.
  }
  return process.resourceUsage().maxRSS;
}

process.on('exit', () => {
  if (process.env.BENCH_MAX_RSS_FILE) writeFileSync(process.env.BENCH_MAX_RSS_FILE, String(peakKiB()));
});
