import {
  formatPlatform,
  readConfigPlatform,
  readEnginePlatform,
  readManifest,
  runsOn,
} from '../../payload/locator/image-platform';

const DIGEST = `sha256:${'a'.repeat(64)}`;

test('an index lists its platforms, attestations and entries without a platform left out', () => {
  const index = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [
      { digest: DIGEST, platform: { os: 'linux', architecture: 'amd64' } },
      { digest: DIGEST, platform: { os: 'linux', architecture: 'arm', variant: 'v7' } },
      { digest: DIGEST, platform: { os: 'unknown', architecture: 'unknown' } },
      { digest: DIGEST },
    ],
  };
  expect(readManifest('application/vnd.oci.image.index.v1+json', JSON.stringify(index))).toEqual({
    kind: 'index',
    platforms: [
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm', variant: 'v7' },
    ],
  });
  // Docker's manifest list, told by its own mediaType when the Content-Type says nothing.
  expect(
    readManifest(
      null,
      JSON.stringify({ ...index, mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json' }),
    )?.kind,
  ).toBe('index');
});

test("a single image's manifest points at its config, which says the platform", () => {
  const manifest = { schemaVersion: 2, config: { digest: DIGEST }, layers: [] };
  expect(
    readManifest('application/vnd.docker.distribution.manifest.v2+json; charset=utf-8', JSON.stringify(manifest)),
  ).toEqual({
    kind: 'image',
    configDigest: DIGEST,
  });
  expect(readConfigPlatform('{"architecture":"arm64","os":"linux","variant":"v8","config":{}}')).toEqual({
    os: 'linux',
    architecture: 'arm64',
    variant: 'v8',
  });
  for (const unreadable of ['<html>', '{"config":{"digest":"md5:x"}}', '{"schemaVersion":1}'])
    expect(readManifest('text/html', unreadable)).toBeUndefined();
  expect(readConfigPlatform('{"os":"linux"}')).toBeUndefined();
});

test("the engine's platform from /info: uname's names become the images' names", () => {
  expect(readEnginePlatform({ OSType: 'linux', Architecture: 'x86_64' })).toEqual({
    os: 'linux',
    architecture: 'amd64',
  });
  expect(readEnginePlatform({ OSType: 'linux', Architecture: 'aarch64' })).toEqual({
    os: 'linux',
    architecture: 'arm64',
  });
  expect(readEnginePlatform({ OSType: 'linux', Architecture: 'armv7l' })).toEqual({
    os: 'linux',
    architecture: 'arm',
    variant: 'v7',
  });
  expect(readEnginePlatform({ OSType: 'linux', Architecture: 'mips' })).toBeUndefined();
  expect(readEnginePlatform({})).toBeUndefined();
});

test.each([
  ['linux/amd64 on linux/amd64', { os: 'linux', architecture: 'amd64' }, { os: 'linux', architecture: 'amd64' }, true],
  ['linux/arm64 on linux/amd64', { os: 'linux', architecture: 'arm64' }, { os: 'linux', architecture: 'amd64' }, false],
  [
    'windows/amd64 on linux/amd64',
    { os: 'windows', architecture: 'amd64' },
    { os: 'linux', architecture: 'amd64' },
    false,
  ],
  [
    'linux/arm64/v8 on linux/arm64',
    { os: 'linux', architecture: 'arm64', variant: 'v8' },
    { os: 'linux', architecture: 'arm64' },
    true,
  ],
  [
    'linux/arm/v6 on linux/arm/v7',
    { os: 'linux', architecture: 'arm', variant: 'v6' },
    { os: 'linux', architecture: 'arm', variant: 'v7' },
    true,
  ],
  [
    'linux/arm/v7 on linux/arm/v6',
    { os: 'linux', architecture: 'arm', variant: 'v7' },
    { os: 'linux', architecture: 'arm', variant: 'v6' },
    false,
  ],
])('%s', (_what, image, engine, runs) => {
  expect(runsOn(image, engine)).toBe(runs);
});

test('written as docker writes platforms', () => {
  expect(formatPlatform({ os: 'linux', architecture: 'arm', variant: 'v7' })).toBe('linux/arm/v7');
  expect(formatPlatform({ os: 'linux', architecture: 'amd64' })).toBe('linux/amd64');
});
