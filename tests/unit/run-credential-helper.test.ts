import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  CredentialHelperFailed,
  parseHelperAnswer,
  runCredentialHelper,
} from '../../common/credentials/run-credential-helper';

describe('parseHelperAnswer', () => {
  it('reads Username and Secret', () => {
    expect(parseHelperAnswer('{"ServerURL":"r","Username":"u","Secret":"p"}', 'h')).toEqual({
      found: true,
      username: 'u',
      secret: 'p',
    });
  });

  it('rejects non-JSON and missing secrets without quoting the output', () => {
    expect(() => parseHelperAnswer('Secret: hunter2', 'docker-credential-x')).toThrow(CredentialHelperFailed);
    expect(() => parseHelperAnswer('Secret: hunter2', 'docker-credential-x')).not.toThrow(/hunter2/);
    expect(() => parseHelperAnswer('{"Username":"u"}', 'docker-credential-x')).toThrow(/usable "Secret"/);
  });
});

// Real helper programs (small shell scripts) on a private PATH, spoken to over stdin/stdout.
describe('runCredentialHelper', () => {
  let bin: string;
  const env = () => ({ PATH: `${bin}:/usr/bin:/bin` });
  const writeHelper = async (name: string, script: string) => {
    const file = path.join(bin, `docker-credential-${name}`);
    await writeFile(file, `#!/bin/sh\n${script}\n`);
    await chmod(file, 0o755);
  };

  beforeAll(async () => {
    bin = await mkdtemp(path.join(os.tmpdir(), 'run-docker-helpers-'));
    // Answers only for the server URL it stores, exactly like docker-credential-pass & co.
    await writeHelper(
      'store',
      `[ "$1" = get ] || exit 2
read -r url
if [ "$url" = "registry.example:5000" ]; then printf '{"ServerURL":"%s","Username":"me","Secret":"p w\\"d"}' "$url"; exit 0; fi
echo "credentials not found in native keychain"; exit 1`,
    );
    await writeHelper('broken', 'echo "secret-in-output"; exit 3');
    await writeHelper('slow', 'sleep 5');
  });
  afterAll(async () => {
    await rm(bin, { recursive: true, force: true });
  });

  it('sends the server URL on stdin and reads the answer', async () => {
    expect(await runCredentialHelper('store', 'registry.example:5000', { env: env() })).toEqual({
      found: true,
      username: 'me',
      secret: 'p w"d',
    });
  });

  it('reports "not found" as no credentials', async () => {
    expect(await runCredentialHelper('store', 'other.example', { env: env() })).toEqual({ found: false });
  });

  it('fails with the exit code only, never the output', async () => {
    const failure = runCredentialHelper('broken', 'x', { env: env() });
    await expect(failure).rejects.toThrow('"docker-credential-broken get" exited with code 3');
    await expect(failure).rejects.not.toThrow(/secret-in-output/);
  });

  /** Whether `pid` still runs (a zombie waiting for its reaper does not). */
  const isRunning = (pid: number) => {
    try {
      return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return false;
    }
  };
  /** Waits for `pid` to end, up to `withinMs`; whether it did. */
  async function ended(pid: number, withinMs = 5000): Promise<boolean> {
    const until = Date.now() + withinMs;
    while (isRunning(pid)) {
      if (Date.now() > until) return false;
      await new Promise((resolve) => setImmediate(resolve));
    }
    return true;
  }

  it("ends the helper's children with it: after an answer, and after the time limit", async () => {
    const pids = path.join(bin, 'pids');
    // A child that keeps running and holds nothing of ours open (as a keychain agent would).
    await writeHelper(
      'leaves-child',
      `sleep 300 </dev/null >/dev/null 2>&1 & echo $! >> "${pids}"; read -r url; printf '{"Username":"u","Secret":"s"}'`,
    );
    await writeHelper('hangs-with-child', `sleep 300 </dev/null >/dev/null 2>&1 & echo $! >> "${pids}"; sleep 300`);
    expect(await runCredentialHelper('leaves-child', 'r', { env: env() })).toEqual({
      found: true,
      username: 'u',
      secret: 's',
    });
    await expect(runCredentialHelper('hangs-with-child', 'r', { env: env(), timeoutMs: 200 })).rejects.toThrow(
      'it timed out',
    );
    const started = (await readFile(pids, 'utf8')).trim().split('\n').map(Number);
    expect(started).toHaveLength(2);
    for (const pid of started) expect({ pid, ended: await ended(pid) }).toEqual({ pid, ended: true });
  });

  it('fails clearly when the helper is missing or hangs', async () => {
    await expect(runCredentialHelper('absent', 'x', { env: env() })).rejects.toThrow(
      'could not be run (it is not on PATH)',
    );
    await expect(runCredentialHelper('slow', 'x', { env: env(), timeoutMs: 200 })).rejects.toThrow(
      'could not be run (it timed out)',
    );
  });
});
