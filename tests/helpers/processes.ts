import { readdir, readFile } from 'node:fs/promises';

/**
 * Live processes on this machine whose command line contains `text` (Linux /proc), as
 * "PID: ARGV": a test sees that nothing it started is still on its way to act, rather than
 * waiting a while and hoping.
 */
export async function processesMentioning(text: string): Promise<string[]> {
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name) && Number(name) !== process.pid);
  const found: string[] = [];
  for (const pid of pids) {
    // A process that is gone (or a zombie, whose cmdline is empty) does not count.
    const argv = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (argv.includes(text)) found.push(`${pid}: ${argv.split('\0').join(' ').trim()}`);
  }
  return found;
}
