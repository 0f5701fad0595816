/**
 * The transport every registry request goes through (createRegistryTransport): which TLS
 * settings go to which host, the explicit upgrade of an insecure registry that answers only
 * https, the second attempt with the registry's CAs for its token service, and how each
 * failure reads. Requests are answered by a `send` in memory; send-with-node-http.test.ts and
 * request-through-proxy.test.ts cover the wire.
 */
import { RunDockerError } from '../../common/run-docker-error';
import type { RegistryHost } from '../../payload/locator/registry/registry-host';
import { isRegistryUnreachable } from '../../payload/locator/registry/registry-unreachable-error';
import { createRegistryTransport } from '../../payload/locator/registry/transport/create-registry-transport';
import type { RawAnswer } from '../../payload/locator/registry/registry-request';
import {
  BodyTooLargeError,
  RedirectRefused,
  type SendRequest,
} from '../../payload/locator/registry/transport/send-with-node-http';

const ok: RawAnswer = { status: 200, headers: { get: () => null }, text: '{}' };
const httpsOnly: RawAnswer = {
  status: 400,
  headers: { get: () => null },
  text: 'Client sent an HTTP request to an HTTPS server.\n',
};

function failingWith(error: Error): SendRequest {
  return () => Promise.reject(error);
}

function codeError(code: string): Error {
  return Object.assign(new Error(code), { code });
}

/** A send that records [url, tls] and answers with `answer`. */
function recording(answer: (url: string, tls: unknown) => RawAnswer | Error) {
  const seen: Array<[string, unknown]> = [];
  const send: SendRequest = (url, request) => {
    seen.push([url, request.tls]);
    const result = answer(url, request.tls);
    return result instanceof Error ? Promise.reject(result) : Promise.resolve(result);
  };
  return { send, seen };
}

const verified: RegistryHost = { registry: 'registry.lan:5000', host: 'registry.lan:5000', mode: 'verified' };

function transport(send: SendRequest, host: RegistryHost = verified) {
  return createRegistryTransport({ host, timeoutMs: 1000, send });
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
      const error = await failure(transport(failingWith(codeError(code))).send('https://registry.lan:5000/v2/', {}));
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
      const error = await failure(transport(failingWith(codeError(code))).send('https://registry.lan:5000/v2/', {}));
      expect(isRegistryUnreachable(error)).toBe(true);
      expect(error.message).toBe(`cannot reach the registry "registry.lan:5000" (${code})`);
    },
  );

  it("a registry asked in plain http that the engine does not call insecure, answering Go's 400 for TLS-only: an error that says so", async () => {
    const { send } = recording(() => httpsOnly);
    const error = await failure(transport(send).send('http://registry.lan:5000/v2/', {}));
    expect(error.message).toBe('the registry "registry.lan:5000" answers only https, but was asked over plain HTTP');
  });

  it('an insecure registry that answers only https is upgraded explicitly: asked again, and from then on, over https without checking its certificate', async () => {
    const { send, seen } = recording((url) => (url.startsWith('http:') ? httpsOnly : ok));
    const plain = transport(send, { ...verified, mode: 'plain' });
    expect((await plain.send('http://registry.lan:5000/v2/a', {})).status).toBe(200);
    expect(plain.host).toEqual({ ...verified, mode: 'insecure-tls' });
    expect((await plain.send('http://registry.lan:5000/v2/b', {})).status).toBe(200);
    expect(seen).toEqual([
      ['http://registry.lan:5000/v2/a', undefined],
      ['https://registry.lan:5000/v2/a', { rejectUnauthorized: false }],
      ['https://registry.lan:5000/v2/b', { rejectUnauthorized: false }],
    ]);
  });

  it("certs.d material goes to the registry's own host:port only", async () => {
    const { send, seen } = recording(() => ok);
    const withCerts = transport(send, { ...verified, ca: ['CA'], clientCertificate: { cert: 'C', key: 'K' } });
    await withCerts.send('https://registry.lan:5000/v2/', {});
    await withCerts.send('https://auth.lan/token', {});
    expect(seen).toEqual([
      ['https://registry.lan:5000/v2/', { ca: ['CA'], cert: 'C', key: 'K' }],
      ['https://auth.lan/token', undefined],
    ]);
  });

  it("a token service on another host under the same private CA: Node's roots first, then the registry's certs.d CAs (no client pair)", async () => {
    const { send, seen } = recording((_url, tls) => (tls ? ok : codeError('UNABLE_TO_VERIFY_LEAF_SIGNATURE')));
    const corp = { registry: 'registry.corp', host: 'registry.corp', mode: 'verified' as const, ca: ['CA'] };
    const withCa = transport(send, { ...corp, clientCertificate: { cert: 'C', key: 'K' } });
    expect((await withCa.send('https://gitlab.corp/jwt/auth', {})).status).toBe(200);
    expect(seen).toEqual([
      ['https://gitlab.corp/jwt/auth', undefined],
      ['https://gitlab.corp/jwt/auth', { ca: ['CA'] }],
    ]);
  });

  it("a host the registry's CAs do not vouch for either: the untrusted-certificate error, after the one retry", async () => {
    const { send, seen } = recording(() => codeError('SELF_SIGNED_CERT_IN_CHAIN'));
    const corp = { registry: 'registry.corp', host: 'registry.corp', mode: 'verified' as const, ca: ['CA'] };
    const error = await failure(transport(send, corp).send('https://auth.elsewhere/token', {}));
    expect(error.message).toBe(
      'the token service "auth.elsewhere" of the registry "registry.corp" presented a certificate this host does not trust (SELF_SIGNED_CERT_IN_CHAIN; if it uses a private CA, put that CA in /etc/docker/certs.d/registry.corp/ca.crt)',
    );
    expect((error as RunDockerError).hint).toContain('/etc/docker/certs.d/registry.corp/ca.crt');
    expect(seen).toHaveLength(2);
  });
});

describe('other failures', () => {
  it('a refused redirect makes the registry unusable now, named with its reason', async () => {
    const refused = new RedirectRefused('a redirect from https://registry.lan:5000 to plain http://registry.lan:5000');
    const error = await failure(transport(failingWith(refused)).send('https://registry.lan:5000/v2/', {}));
    expect(isRegistryUnreachable(error)).toBe(true);
    expect(error.message).toBe(
      'the registry "registry.lan:5000" sent a redirect run-docker does not follow (a redirect from https://registry.lan:5000 to plain http://registry.lan:5000)',
    );
  });

  it('an endless answer is an error naming the host; an unknown failure passes unchanged', async () => {
    const large = await failure(
      transport(failingWith(new BodyTooLargeError('x'))).send('https://registry.lan:5000/v2/', {}),
    );
    expect(large.message).toBe('the registry at "registry.lan:5000" sent an answer larger than 8 MiB');
    const odd = new TypeError('odd');
    expect(await failure(transport(failingWith(odd)).send('https://registry.lan:5000/v2/', {}))).toBe(odd);
  });

  it('asks plain http of a redirect for the registry itself only while it is asked as insecure', async () => {
    const asked: boolean[] = [];
    const send: SendRequest = (_url, _request, options) => {
      asked.push(options.mayUsePlainHttp!(new URL('http://registry.lan:5000/v2/')));
      asked.push(options.mayUsePlainHttp!(new URL('http://127.0.0.1:5000/v2/')));
      return Promise.resolve(ok);
    };
    await transport(send).send('https://registry.lan:5000/v2/', {});
    await transport(send, { ...verified, mode: 'plain' }).send('http://registry.lan:5000/v2/', {});
    expect(asked).toEqual([false, true, true, true]);
  });

  it('no request outlives the deadline: a used-up budget is named, and nothing is sent', async () => {
    const { send, seen } = recording(() => ok);
    const late = createRegistryTransport({
      host: verified,
      timeoutMs: 1000,
      send,
      deadline: { at: 1000, totalMs: 5000 },
      now: () => 2000,
    });
    const error = await failure(late.send('https://registry.lan:5000/v2/', {}));
    expect(error.message).toBe(
      'cannot reach the registry "registry.lan:5000" (the 5000 ms for registry lookups in this call are used up)',
    );
    expect(seen).toEqual([]);
  });
});

describe('a plain-HTTP registry asked over https because the engine treats it as secure (Podman, loopback included)', () => {
  it('is named for what it is, with the registries.conf fix, and the host goes on with its images', async () => {
    const wrongVersion = Object.assign(
      new Error('write EPROTO 80ACD119BC7F0000:error:0A00010B:SSL routines:ssl3_get_record:wrong version number'),
      { code: 'EPROTO' },
    );
    const error = await failure(transport(failingWith(wrongVersion)).send('https://registry.lan:5000/v2/', {}));
    expect(isRegistryUnreachable(error)).toBe(true);
    expect(error.message).toBe(
      'the registry "registry.lan:5000" cannot be used over https (it answers plain HTTP, and the engine treats it as secure)',
    );
    expect((error as RunDockerError).hint).toContain('[[registry]] location = "registry.lan:5000" insecure = true');
  });
});
