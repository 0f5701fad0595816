import { placeEngineFolders } from '../../payload/run/place-engine-folders';
import { defaultRunOptions } from '../../payload/run/run-defaults';
import type { RunOptions } from '../../payload/run/invocation';

const ENGINE = 'ssh://me@prod-1';
const sharing = { shares: false, why: 'it did not see a folder made here' };
const place = (options: Partial<RunOptions>, extra: Partial<Parameters<typeof placeEngineFolders>[0]> = {}) =>
  placeEngineFolders({
    options: { ...defaultRunOptions(), ...options },
    settings: undefined,
    sharing,
    engineHost: ENGINE,
    localSourceDir: undefined,
    ...extra,
  });

test('nothing given: no folder is mapped, and one line says so and how to name them', () => {
  const plan = place({});
  expect(plan.options.hostDataDir).toEqual({ kind: 'none' });
  expect(plan.options.hostLogDir).toEqual({ kind: 'none' });
  expect(plan.folders).toEqual([]);
  expect(plan.sourceDir).toBeUndefined();
  expect(plan.notice).toBe(
    `the engine at "${ENGINE}" does not share this host's files (it did not see a folder made here): no data or log folder is mapped (DATADIR and LOGDIR are /tmp); name folders on its host with --hostdatadir and --hostlogdir, or "dataDir" and "logDir" for it under "engines" in the config file`,
  );
});

test('"no" is said on purpose: no line for it', () => {
  expect(place({ hostDataDir: { kind: 'none' }, hostLogDir: { kind: 'none' } }).notice).toBeUndefined();
  expect(place({ hostDataDir: { kind: 'none' } }).notice).toContain(
    'no log folder is mapped (LOGDIR is /tmp); name one on its host with --hostlogdir, or "logDir"',
  );
});

test("options and the engine's settings name folders on its host, taken as they are and checked there", () => {
  const plan = place(
    { hostLogDir: { kind: 'dir', path: '/var/log/me/' }, hostSrcDir: '/srv/me/src/app' },
    { settings: { source: 'engines["ssh://me@prod-1"] in /c.json', dataDir: { kind: 'dir', path: '/srv/me/data' } } },
  );
  expect(plan.options.hostDataDir).toEqual({ kind: 'dir', path: '/srv/me/data' });
  expect(plan.options.hostLogDir).toEqual({ kind: 'dir', path: '/var/log/me' });
  expect(plan.sourceDir).toBe('/srv/me/src/app');
  expect(plan.notice).toBeUndefined();
  expect(plan.folders).toEqual([
    { path: '/srv/me/src/app', what: 'source folder', from: '--hostsrcdir' },
    { path: '/srv/me/data', what: 'data folder', from: 'engines["ssh://me@prod-1"] in /c.json' },
    { path: '/var/log/me', what: 'log folder', from: '--hostlogdir' },
  ]);
});

test('a source folder found on this host is refused, and a relative path cannot name a folder there', () => {
  expect(() => place({}, { localSourceDir: '/home/me/work/src/app' })).toThrow(
    `the engine at "${ENGINE}" does not share this host's files (it did not see a folder made here), so the source folder "/home/me/work/src/app" cannot be mapped into a dev run`,
  );
  // Given explicitly, the engine's own folder wins over the one here.
  expect(place({ hostSrcDir: '/srv/app' }, { localSourceDir: '/home/me/work/src/app' }).sourceDir).toBe('/srv/app');
  expect(() => place({ hostDataDir: { kind: 'dir', path: 'data' } })).toThrow(
    '--hostdatadir "data" must be an absolute path',
  );
});
