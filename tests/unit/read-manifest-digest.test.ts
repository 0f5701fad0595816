import { createHash } from 'node:crypto';
import { readManifestDigest } from '../../payload/locator/registry/manifests/read-platforms';
import type { RegistryResponse } from '../../payload/locator/registry/registry-request';

const OPTIONS = {
  baseUrl: 'http://r.example',
  path: 'team/app',
  reference: '20261207-064000',
  registry: 'r.example',
  repositoryName: 'r.example/team/app',
};

function answer(status: number, text: string, digest?: string): RegistryResponse {
  const headers = new Map<string, string>([
    ['content-type', 'application/vnd.oci.image.manifest.v1+json'],
    ...(digest ? ([['docker-content-digest', digest]] as const) : []),
  ]);
  return {
    url: '',
    status,
    text,
    headers: { get: (name: string) => headers.get(name.toLowerCase()) ?? null },
  };
}

describe('readManifestDigest', () => {
  it('is the sha256 of the manifest the registry sends for the tag, whatever a header claims', async () => {
    const manifest = '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}';
    const asked: string[] = [];
    const digest = await readManifestDigest((url, accept) => {
      asked.push(`${url} ${accept.includes('application/vnd.oci.image.manifest.v1+json')}`);
      return Promise.resolve(answer(200, manifest, 'sha256:0000'));
    }, OPTIONS);
    expect(digest).toBe(`sha256:${createHash('sha256').update(manifest).digest('hex')}`);
    expect(asked).toEqual(['http://r.example/v2/team/app/manifests/20261207-064000 true']);
  });

  it('is undefined for a tag the registry does not have, and a registry failure is its own error', async () => {
    await expect(readManifestDigest(() => Promise.resolve(answer(404, '')), OPTIONS)).resolves.toBeUndefined();
    await expect(readManifestDigest(() => Promise.resolve(answer(503, '')), OPTIONS)).rejects.toThrow('r.example');
  });
});
