import { selectEngineSettings } from '../../common/engine/select-engine-settings';

const USER = '/home/me/.config/run-docker/config.json';
const SYSTEM = '/etc/run-docker/config.json';
const file = (path: string, engines: unknown) => ({ path, content: { engines } });

test('an entry is found by the address as the shim writes it, or by the docker context that chose the engine', () => {
  const files = [
    file(USER, {
      'prod-1:2375': { dataDir: '/srv/me/data' },
      'ssh://me@build': { logDir: 'no' },
      'build-server': { sharesFiles: true },
    }),
  ];
  expect(selectEngineSettings(files, { host: 'tcp://prod-1:2375' })).toEqual({
    source: `engines["prod-1:2375"] in ${USER}`,
    dataDir: { kind: 'dir', path: '/srv/me/data' },
  });
  expect(selectEngineSettings(files, { host: 'ssh://me@build' })?.logDir).toEqual({ kind: 'none' });
  expect(selectEngineSettings(files, { host: 'tcp://10.0.0.5:2376', context: 'build-server' })?.sharesFiles).toBe(true);
  expect(selectEngineSettings(files, { host: 'unix:///var/run/docker.sock' })).toBeUndefined();
});

test("the first file with an entry for the engine gives all of its settings: the user's before the system's", () => {
  const files = [
    file(USER, { 'tcp://h:2375': { logDir: '/u/log' } }),
    file(SYSTEM, { 'tcp://h:2375': { dataDir: '/s/data' }, 'tcp://other:2375': { dataDir: '/s/o' } }),
  ];
  expect(selectEngineSettings(files, { host: 'tcp://h:2375' })).toEqual({
    source: `engines["tcp://h:2375"] in ${USER}`,
    logDir: { kind: 'dir', path: '/u/log' },
  });
  expect(selectEngineSettings(files, { host: 'tcp://other:2375' })?.source).toBe(
    `engines["tcp://other:2375"] in ${SYSTEM}`,
  );
});

test.each([
  [[1], '"engines" must be an object'],
  [{ 'tcp://h:2375': 'yes' }, 'must be an object such as'],
  [{ 'tcp://h:2375': { dataDir: 'relative/data' } }, '"dataDir" of engines["tcp://h:2375"] must be an absolute path'],
  [{ 'tcp://h:2375': { sharesFiles: 'yes' } }, '"sharesFiles" of engines["tcp://h:2375"] must be true or false'],
  [{ 'tcp://h:2375': { dataDri: '/x' } }, 'unknown setting "dataDri"'],
])('a malformed entry for the engine is one line naming the file: %j', (engines, words) => {
  expect(() => selectEngineSettings([file(USER, engines)], { host: 'tcp://h:2375' })).toThrow(words);
});
