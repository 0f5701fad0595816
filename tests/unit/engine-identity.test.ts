import { createLightEngineClient, type EngineCall } from '../../common/engine/light-engine-client';
import { parseEngineIdentity, parseVersionIdentity } from '../../common/engine/parse-engine-identity';

describe('parseEngineIdentity', () => {
  it('tells dockerd from Podman by the Server header every answer carries', () => {
    expect(parseEngineIdentity({ server: 'Docker/20.10.24+dfsg1 (linux)' })).toEqual({
      kind: 'docker',
      version: '20.10.24+dfsg1',
    });
    expect(parseEngineIdentity({ server: 'Libpod/4.3.1 (linux)', libpodApiVersion: '4.3.1' })).toEqual({
      kind: 'podman',
      version: '4.3.1',
    });
    // Libpod-Api-Version alone is Podman too (a proxy that rewrote Server).
    expect(parseEngineIdentity({ server: 'nginx', libpodApiVersion: '5.0.0' })).toEqual({
      kind: 'podman',
      version: '5.0.0',
    });
    expect(parseEngineIdentity({ server: 'nginx/1.22' })).toEqual({ kind: 'other', version: '' });
    expect(parseEngineIdentity({})).toEqual({ kind: 'other', version: '' });
  });
});

describe('parseVersionIdentity (GET /version, for clients that see no headers)', () => {
  it('finds Podman among the components, else takes dockerd', () => {
    expect(
      parseVersionIdentity({ Version: '4.3.1', Components: [{ Name: 'Podman Engine', Version: '4.3.1' }] }),
    ).toEqual({ kind: 'podman', version: '4.3.1' });
    expect(parseVersionIdentity({ Version: '27.3.1', Components: [{ Name: 'Engine', Version: '27.3.1' }] })).toEqual({
      kind: 'docker',
      version: '27.3.1',
    });
    expect(parseVersionIdentity('nonsense')).toEqual({ kind: 'other', version: '' });
  });
});

describe('the light client identify()', () => {
  it('answers from the headers of the image list it asked for at once: no request of its own', async () => {
    const calls: EngineCall[] = [];
    const seen = {};
    const engine = createLightEngineClient(
      async (call) => {
        calls.push(call);
        Object.assign(seen, { server: 'Libpod/4.3.1 (linux)', libpodApiVersion: '4.3.1' });
        return [];
      },
      async () => {},
      seen,
    );
    expect(await engine.identify?.()).toEqual({ kind: 'podman', version: '4.3.1' });
    expect(calls).toEqual([{ method: 'GET', path: '/images/json' }]);
  });

  it('asks GET /_ping when no answer has come yet (the list failed)', async () => {
    const calls: string[] = [];
    const seen: { server?: string } = {};
    const engine = createLightEngineClient(
      async (call) => {
        calls.push(call.path);
        if (call.path === '/images/json') throw Object.assign(new Error('boom'), { statusCode: 500 });
        seen.server = 'Docker/28.2.2 (linux)';
        return undefined;
      },
      async () => {},
      seen,
    );
    expect(await engine.identify?.()).toEqual({ kind: 'docker', version: '28.2.2' });
    expect(calls).toEqual(['/images/json', '/_ping']);
  });
});
