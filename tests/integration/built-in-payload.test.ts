/**
 * The payload built into the shim (docs/trust.md, "The built-in payload"): a fresh install
 * with no tiny configured runs it silently; a configured tiny that cannot be had, or no
 * usable mini, is one warning and then the built-in payload; once a good mini is published
 * it wins again, exactly as before.
 */
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildBusyboxImage, removeImages } from '../helpers/fixtures';
import { expectEachTestToLeaveNoContainers } from '../helpers/own-containers';
import { startRegistry, type TestRegistry } from '../helpers/registry';
import { explain, makeHost, PACKAGE_VERSION, publish, removeHosts, runShim, stderrLines } from '../helpers/shim';

// Port 1: nothing listens, so a registry there is down and has never been reached.
const DOWN = '127.0.0.1:1';
const app = `${DOWN}/built-in-${process.pid}/app`;
let registry: TestRegistry;
let prefix: string;
const images: string[] = [`${app}:1.0.0`];

beforeAll(async () => {
  await buildBusyboxImage(`${app}:1.0.0`);
  registry = await startRegistry();
  prefix = `${registry.address}/built-in-${process.pid}`;
});

afterAll(async () => {
  await removeImages(images);
  await registry?.remove();
  await removeHosts();
});

expectEachTestToLeaveNoContainers();

describe('a fresh install: no config, no registry', () => {
  test('--version, --help and --show-config say the built-in payload runs, without a word on stderr', async () => {
    const host = await makeHost({});
    const version = await runShim(['--version'], host);
    expect({ code: version.code, stderr: version.stderr }).toEqual({ code: 0, stderr: '' });
    expect(version.stdout).toBe(
      `run-docker shim ${PACKAGE_VERSION}\ntiny none\nmini built into shim ${PACKAGE_VERSION} (no tiny configured)\n`,
    );

    const help = await runShim(['--help'], host);
    expect({ code: help.code, stderr: help.stderr }).toEqual({ code: 0, stderr: '' });
    expect(help.stdout).toMatch(/^Usage: run-docker /);

    const config = await runShim(['--show-config'], host);
    expect(config.code).toBe(0);
    expect(config.stdout).toMatch(
      new RegExp(
        `^payload +built into shim ${PACKAGE_VERSION.replace(/\./g, '\\.')} \\(no tiny configured\\) +\\(from tiny and mini\\)$`,
        'm',
      ),
    );
    expect(config.stdout).toMatch(/^tiny +none +\(default\)$/m);
    // Wherever the shim reads run-docker's options, and like --help, whatever follows.
    for (const args of [
      ['--local', '-q', '--show-config'],
      ['--rm', '--show-config', 'app', 'cmd'],
    ]) {
      const again = await runShim(args, host);
      expect({ args, code: again.code, stdout: again.stdout, stderr: again.stderr }).toEqual({
        args,
        code: 0,
        stdout: config.stdout,
        stderr: '',
      });
    }
  });

  test('runs a project image on this host, with --local and without', async () => {
    const host = await makeHost({});
    const local = await runShim(['--local', `${app}:1.0.0`, 'sh', '-c', 'echo hello from $(id -un)'], host);
    expect({ code: local.code, stdout: local.stdout, stderr: local.stderr }).toEqual({
      code: 0,
      stdout: 'hello from docker-user\n',
      stderr: '',
    });

    // The newest tag is looked for in the project's registry too: it is down, so one
    // warning (the run payload's own) and the tag on this host runs.
    const newest = await runShim([app, 'sh', '-c', 'echo newest'], host);
    expect(newest.code).toBe(0);
    expect(newest.stdout).toBe('newest\n');
    const lines = stderrLines(newest);
    expect({ lines: lines.length, why: explain(newest) }).toEqual({ lines: 1, why: explain(newest) });
    expect(lines[0]).toMatch(new RegExp(`^run-docker: warning: .*${DOWN.replace(/\./g, '\\.')}`));
    // The built-in payload never counts as a mini version.
    await expect(access(join(host.HOME, '.local', 'state', 'run-docker', 'mini-versions.json'))).rejects.toThrow();
  });
});

test('a mini configured without a tiny is ignored with one warning: only a tiny can vouch for a mini', async () => {
  const outcome = await runShim(['--version'], await makeHost({ RUN_DOCKER_MINI: `${DOWN}/rd/mini` }));
  expect(outcome.code).toBe(0);
  expect(outcome.stdout).toContain(`mini built into shim ${PACKAGE_VERSION} (no tiny configured)`);
  expect(stderrLines(outcome)).toEqual([
    `run-docker: warning: the mini "${DOWN}/rd/mini" (from env RUN_DOCKER_MINI) is ignored: no tiny is configured, and only a tiny's keys can vouch for a mini; running the payload built into shim ${PACKAGE_VERSION}`,
  ]);
});

describe('a configured tiny on a registry that is down and was never reached', () => {
  const tiny = `${DOWN}/rd/tiny:${PACKAGE_VERSION}`;

  test('one warning that names the tiny, then the built-in payload runs the project image', async () => {
    const host = await makeHost({ RUN_DOCKER_TINY: tiny, RUN_DOCKER_MINI: `${DOWN}/rd/mini` });
    const outcome = await runShim([`${app}:1.0.0`, 'sh', '-c', 'echo ran'], host);
    expect(outcome.code).toBe(0);
    expect(outcome.stdout).toBe('ran\n');
    expect(stderrLines(outcome)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^run-docker: warning: cannot reach the registry to pull "${tiny.replace(/\./g, '\\.')}" .*; running the payload built into shim ${PACKAGE_VERSION.replace(/\./g, '\\.')} instead\\. `,
        ),
      ),
    ]);

    const version = await runShim(['--version'], host);
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(
      new RegExp(
        `^mini built into shim ${PACKAGE_VERSION.replace(/\./g, '\\.')} \\(cannot reach the registry to pull "${tiny.replace(/\./g, '\\.')}"`,
        'm',
      ),
    );
  });

  test('with --local: one warning that the tiny is not on this host, then the built-in payload', async () => {
    const host = await makeHost({ RUN_DOCKER_TINY: tiny, RUN_DOCKER_MINI: `${DOWN}/rd/mini` });
    const outcome = await runShim(['--local', `${app}:1.0.0`, 'sh', '-c', 'echo ran'], host);
    expect({ code: outcome.code, stdout: outcome.stdout }).toEqual({ code: 0, stdout: 'ran\n' });
    expect(stderrLines(outcome)).toEqual([
      `run-docker: warning: the tiny image "${tiny}" is not on this host, and --local forbids pulling it; running the payload built into shim ${PACKAGE_VERSION} instead. Run once without --local to pull it, or "docker load" it onto this host.`,
    ]);
  });
});

test('a configured tiny whose only mini is untrusted: one warning, the built-in payload; a good mini then wins again', async () => {
  const tiny = await publish('tiny', `${prefix}/tiny`);
  images.push(tiny, `${prefix}/tiny:${PACKAGE_VERSION}`);
  const repo = `${prefix}/mini`;
  await publish('mini', repo, ['--version', '20260101-000000'], 'untrusted');
  images.push(`${repo}:20260101-000000`);
  const host = await makeHost({ RUN_DOCKER_TINY: tiny, RUN_DOCKER_MINI: repo });

  const fallback = await runShim(['--version'], host);
  expect(fallback.code).toBe(0);
  expect(fallback.stdout).toMatch(
    new RegExp(`^tiny ${tiny.replace(/[.]/g, '\\.')} \\(${PACKAGE_VERSION.replace(/\./g, '\\.')}\\)$`, 'm'),
  );
  expect(fallback.stdout).toMatch(
    new RegExp(
      `^mini built into shim ${PACKAGE_VERSION.replace(/\./g, '\\.')} \\(no usable mini of ".*/mini": .*which this host does not trust`,
      'm',
    ),
  );
  const lines = stderrLines(fallback);
  expect(lines).toEqual([
    expect.stringMatching(
      /^run-docker: warning: no usable mini of ".*\/mini": the newest, ".*:20260101-000000" cannot be used: it is signed by key [0-9a-f]{16}, which this host does not trust; running the payload built into shim .* instead\. Publish a mini signed/,
    ),
  ]);
  const record = join(host.HOME, '.local', 'state', 'run-docker', 'mini-versions.json');
  await expect(access(record)).rejects.toThrow();

  await publish('mini', repo, ['--version', '20260102-000000']);
  images.push(`${repo}:20260102-000000`);
  const good = await runShim(['--version'], host);
  expect({ code: good.code, stderr: good.stderr }).toEqual({ code: 0, stderr: '' });
  expect(good.stdout).toContain(`mini ${repo}:20260102-000000 (20260102-000000, payload ${PACKAGE_VERSION})`);
  expect(JSON.parse(await readFile(record, 'utf8'))).toEqual({ minis: { [repo]: '20260102-000000' } });
});

test('a pinned mini that cannot be used stays an error', async () => {
  const tiny = await publish('tiny', `${prefix}/tiny-pin`);
  images.push(tiny, `${prefix}/tiny-pin:${PACKAGE_VERSION}`);
  const repo = `${prefix}/mini-pin`;
  await publish('mini', repo, ['--version', '20260101-000000'], 'none');
  images.push(`${repo}:20260101-000000`);
  const outcome = await runShim(
    ['--version'],
    await makeHost({ RUN_DOCKER_TINY: tiny, RUN_DOCKER_MINI: `${repo}:20260101-000000` }),
  );
  expect({ code: outcome.code, stdout: outcome.stdout }).toEqual({ code: 125, stdout: '' });
  expect(stderrLines(outcome)).toEqual([
    expect.stringMatching(/^run-docker: the mini image ".*:20260101-000000" cannot be used: it is not signed\./),
  ]);
});
