import { RunDockerError } from '../../common/run-docker-error';
import { fetchRegistry } from '../../payload/locator/registry/fetch-registry';
import { isRegistryUnreachable } from '../../payload/locator/registry/registry-unreachable-error';
import type { SendRequest } from '../../payload/locator/registry/send-with-node-http';

function failingWith(code: string): SendRequest {
  return async () => {
    throw Object.assign(new Error(code), { code });
  };
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
}

describe('TLS failures of registry requests', () => {
  it.each([
    'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    'SELF_SIGNED_CERT_IN_CHAIN',
    'DEPTH_ZERO_SELF_SIGNED_CERT',
    'ERR_TLS_CERT_ALTNAME_INVALID',
  ])(
    'an untrusted certificate (%s) is named as such, with the certs.d file that mends it, and the host goes on with its images',
    async (code) => {
      const error = await failure(
        fetchRegistry('https://registry.lan:5000/v2/', {}, { send: failingWith(code), timeoutMs: 1000 }),
      );
      expect(error).toBeInstanceOf(RunDockerError);
      // A CA rotated before every host has it must not stop a fleet: one warning, local images.
      expect(isRegistryUnreachable(error)).toBe(true);
      expect(error.message).toBe(
        `the registry "registry.lan:5000" presented a certificate this host does not trust (${code}; if it uses a private CA, put that CA in /etc/docker/certs.d/registry.lan:5000/ca.crt)`,
      );
      expect((error as RunDockerError).hint).toContain('/etc/docker/certs.d/registry.lan:5000/ca.crt');
    },
  );

  it.each(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'EPROTO'])(
    '%s stays "unreachable": local images, one warning',
    async (code) => {
      const error = await failure(
        fetchRegistry('https://registry.lan:5000/v2/', {}, { send: failingWith(code), timeoutMs: 1000 }),
      );
      expect(isRegistryUnreachable(error)).toBe(true);
      expect(error.message).toBe(`cannot reach the registry "registry.lan:5000" (${code})`);
    },
  );

  it("a TLS-only registry answering plain HTTP (Go's 400) is an error that says so, unless the engine calls it insecure", async () => {
    const send: SendRequest = async () => ({
      status: 400,
      headers: { get: () => null },
      text: 'Client sent an HTTP request to an HTTPS server.\n',
    });
    const error = await failure(fetchRegistry('http://registry.lan:5000/v2/', {}, { send, timeoutMs: 1000 }));
    expect(error.message).toBe('the registry "registry.lan:5000" answers only https, but was asked over plain HTTP');
  });

  it('an insecure registry that answers only https is asked again, and from then on, over https without checking its certificate', async () => {
    const seen: Array<[string, unknown]> = [];
    const send: SendRequest = async (url, request) => {
      seen.push([url, request.tls]);
      return url.startsWith('http:')
        ? { status: 400, headers: { get: () => null }, text: 'Client sent an HTTP request to an HTTPS server.\n' }
        : { status: 200, headers: { get: () => null }, text: '{}' };
    };
    const http = { send, timeoutMs: 1000, insecure: { host: 'registry.lan:5000', upgraded: false } };
    expect((await fetchRegistry('http://registry.lan:5000/v2/a', {}, http)).status).toBe(200);
    expect((await fetchRegistry('http://registry.lan:5000/v2/b', {}, http)).status).toBe(200);
    expect(seen).toEqual([
      ['http://registry.lan:5000/v2/a', undefined],
      ['https://registry.lan:5000/v2/a', { rejectUnauthorized: false }],
      ['https://registry.lan:5000/v2/b', { rejectUnauthorized: false }],
    ]);
  });

  it("certs.d material goes to the registry's own host:port only", async () => {
    const seen: Array<[string, unknown]> = [];
    const send: SendRequest = async (url, request) => {
      seen.push([url, request.tls]);
      return { status: 200, headers: { get: () => null }, text: '{}' };
    };
    const tls = { host: 'registry.lan:5000', ca: ['CA'], cert: 'C', key: 'K' };
    await fetchRegistry('https://registry.lan:5000/v2/', {}, { send, timeoutMs: 1000, tls });
    await fetchRegistry('https://auth.lan/token', {}, { send, timeoutMs: 1000, tls });
    expect(seen).toEqual([
      ['https://registry.lan:5000/v2/', { ca: ['CA'], cert: 'C', key: 'K' }],
      ['https://auth.lan/token', undefined],
    ]);
  });

  it("a token service on another host under the same private CA: Node's roots first, then the registry's certs.d CAs (no client pair)", async () => {
    const seen: Array<[string, unknown]> = [];
    const send: SendRequest = async (url, request) => {
      seen.push([url, request.tls]);
      if (!request.tls) throw Object.assign(new Error('untrusted'), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
      return { status: 200, headers: { get: () => null }, text: '{}' };
    };
    const tls = { host: 'registry.corp', ca: ['CA'], cert: 'C', key: 'K' };
    expect((await fetchRegistry('https://gitlab.corp/jwt/auth', {}, { send, timeoutMs: 1000, tls })).status).toBe(200);
    expect(seen).toEqual([
      ['https://gitlab.corp/jwt/auth', undefined],
      ['https://gitlab.corp/jwt/auth', { ca: ['CA'], cert: undefined, key: undefined }],
    ]);
  });

  it("a host the registry's CAs do not vouch for either: the untrusted-certificate error, after the one retry", async () => {
    let calls = 0;
    const send: SendRequest = async () => {
      calls++;
      throw Object.assign(new Error('untrusted'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' });
    };
    const http = { send, timeoutMs: 1000, tls: { host: 'registry.corp', ca: ['CA'] }, registryHost: 'registry.corp' };
    const error = await failure(fetchRegistry('https://auth.elsewhere/token', {}, http));
    expect(error.message).toBe(
      'the token service "auth.elsewhere" of the registry "registry.corp" presented a certificate this host does not trust (SELF_SIGNED_CERT_IN_CHAIN; if it uses a private CA, put that CA in /etc/docker/certs.d/registry.corp/ca.crt)',
    );
    expect((error as RunDockerError).hint).toContain('/etc/docker/certs.d/registry.corp/ca.crt');
    expect(calls).toBe(2);
  });
});
