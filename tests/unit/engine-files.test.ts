import {
  describeFileSharing,
  ENGINE_FILES_TTL_MS,
  findFreshEntry,
  findMissingBindSource,
  formatRecord,
  isHostSocket,
  parseRecord,
  readProbeAnswer,
} from '../../common/engine/engine-files';

const PROBE = '/home/me/.cache/run-docker/mini/engine-probe-Ab12Cd';
const CONTROL = `${PROBE}/absent`;
const refusal = (path: string) => ({
  statusCode: 400,
  message: `invalid mount config for type "bind": bind source path does not exist: ${path}`,
});

test('a socket or named pipe is on this host; tcp and ssh addresses may be anywhere', () => {
  expect(isHostSocket('unix:///var/run/docker.sock')).toBe(true);
  expect(isHostSocket('npipe:////./pipe/docker_engine')).toBe(true);
  expect(isHostSocket('tcp://127.0.0.1:2375')).toBe(false);
  expect(isHostSocket('ssh://me@127.0.0.1')).toBe(false);
});

test.each([
  ['the control folder is named: the engine saw the probe', refusal(CONTROL), 'shares'],
  ['the probe folder is named: the engine does not see it', refusal(PROBE), 'separate'],
  [
    'no such image: the engine looked for the image first (Podman)',
    { statusCode: 404, message: 'No such image: x' },
    'unknown',
  ],
  ['another refusal', { statusCode: 400, message: 'Config cannot be empty' }, 'unknown'],
  ['a refusal naming neither', refusal('/elsewhere'), 'unknown'],
  ['a created container', { statusCode: 201, message: '' }, 'unknown'],
  [
    'a server error that happens to name the control',
    { statusCode: 500, message: `bind source path does not exist: ${CONTROL}` },
    'unknown',
  ],
] as const)('%s', (_what, answer, verdict) => {
  expect(readProbeAnswer(answer, PROBE, CONTROL)).toBe(verdict);
});

test('a path counts only where the message names it whole, not as the start of a longer path', () => {
  expect(findMissingBindSource(refusal('/srv/data-old'), ['/srv/data'])).toBeUndefined();
  expect(findMissingBindSource(refusal('/srv/data'), ['/srv/src', '/srv/data'])).toBe('/srv/data');
  // Quoted, as some engines write it.
  expect(
    findMissingBindSource({ statusCode: 400, message: 'bind source path does not exist: "/srv/x"' }, ['/srv/x']),
  ).toBe('/srv/x');
});

test('the record keeps the newest answer per address, eight addresses at most, and anything damaged is no record', () => {
  const entries = Array.from({ length: 8 }, (_, index) => ({
    host: `tcp://h${index}:2375`,
    shares: false,
    checkedAt: index,
  }));
  const text = formatRecord(entries, { host: 'tcp://h3:2375', shares: true, checkedAt: 100 });
  const parsed = parseRecord(text);
  expect(parsed).toHaveLength(8);
  expect(parsed[0]).toEqual({ host: 'tcp://h3:2375', shares: true, checkedAt: 100 });
  expect(parsed.filter((entry) => entry.host === 'tcp://h3:2375')).toHaveLength(1);
  expect(parseRecord(formatRecord(parsed, { host: 'tcp://new:1', shares: false, checkedAt: 1 }))).toHaveLength(8);
  for (const damaged of ['{', '[]', '{"version":2,"entries":[]}', '{"version":1,"entries":[{"host":1}]}', undefined])
    expect(parseRecord(damaged)).toEqual([]);
});

test('an answer is used for a minute after it was given, never one from the future', () => {
  const entries = [{ host: 'tcp://h:2375', shares: true, checkedAt: 1_000_000 }];
  expect(findFreshEntry(entries, 'tcp://h:2375', 1_000_000 + ENGINE_FILES_TTL_MS - 1)).toBeDefined();
  expect(findFreshEntry(entries, 'tcp://h:2375', 1_000_000 + ENGINE_FILES_TTL_MS)).toBeUndefined();
  expect(findFreshEntry(entries, 'tcp://h:2375', 999_999)).toBeUndefined();
  expect(findFreshEntry(entries, 'tcp://other:2375', 1_000_001)).toBeUndefined();
});

test('described for --dry-run and --show-config', () => {
  expect(describeFileSharing({ shares: false, why: 'it did not see a folder made here' })).toBe(
    "does not share this host's files (it did not see a folder made here)",
  );
});
