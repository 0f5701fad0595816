/**
 * A name for a loopback address in /etc/hosts, for tests that need a registry by name (the
 * tests run as root). Each test file adds its own line and removes only that line: other
 * files may map names of their own meanwhile.
 */
import { readFile, writeFile } from 'node:fs/promises';

const HOSTS = '/etc/hosts';

/** Maps `name` to `address`; resolves to the function that removes the line again. */
export async function mapHostName(name: string, address: string, owner: string): Promise<() => Promise<void>> {
  const line = `${address} ${name} # run-docker ${owner}`;
  await writeFile(HOSTS, `${(await readFile(HOSTS, 'utf8')).replace(/\n?$/, '\n')}${line}\n`);
  return async () => {
    const text = await readFile(HOSTS, 'utf8');
    const kept = text.split('\n').filter((kept) => kept !== line);
    if (kept.length !== text.split('\n').length) await writeFile(HOSTS, kept.join('\n'));
  };
}
