import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
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

  it('fails clearly when the helper is missing or hangs', async () => {
    await expect(runCredentialHelper('absent', 'x', { env: env() })).rejects.toThrow(
      'could not be run (it is not on PATH)',
    );
    await expect(runCredentialHelper('slow', 'x', { env: env(), timeoutMs: 200 })).rejects.toThrow(
      'could not be run (it timed out)',
    );
  });
});
