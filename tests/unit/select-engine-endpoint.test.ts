import path from 'node:path';
import {
  normalizeHost,
  plainUnixSocketPath,
  redactHost,
  selectContextEndpoint,
  selectContextName,
  selectDefaultEndpoint,
} from '../../common/engine/select-engine-endpoint';
import { toEngineConnection } from '../../common/engine/create-engine-client';
import { buildSshArgs } from '../../common/engine/dial-over-ssh';

const CONFIG = '/home/u/.docker/config.json';
const all = () => true;

describe('selectContextName (docker/cli order: DOCKER_HOST > DOCKER_CONTEXT > currentContext)', () => {
  it('uses the default context whenever DOCKER_HOST is set', () => {
    expect(
      selectContextName({ DOCKER_HOST: 'tcp://h:2375', DOCKER_CONTEXT: 'remote' }, 'other', CONFIG),
    ).toBeUndefined();
  });

  it('prefers DOCKER_CONTEXT to config.json, and treats "default" as no context', () => {
    expect(selectContextName({ DOCKER_CONTEXT: 'remote' }, 'other', CONFIG)).toEqual({
      name: 'remote',
      source: 'DOCKER_CONTEXT',
    });
    expect(selectContextName({ DOCKER_CONTEXT: 'default' }, 'other', CONFIG)).toBeUndefined();
    expect(selectContextName({}, 'other', CONFIG)).toEqual({ name: 'other', source: `currentContext in ${CONFIG}` });
    expect(selectContextName({}, 'default', CONFIG)).toBeUndefined();
    expect(selectContextName({}, undefined, CONFIG)).toBeUndefined();
  });
});

describe('selectDefaultEndpoint', () => {
  it('is the system socket without DOCKER_HOST', () => {
    expect(selectDefaultEndpoint({}, '/cfg', all)).toEqual({ host: 'unix:///var/run/docker.sock', source: 'default' });
  });

  it('adds TLS from DOCKER_TLS_VERIFY and DOCKER_CERT_PATH, leaving out missing files', () => {
    const exists = (file: string) => !file.endsWith('ca.pem');
    expect(
      selectDefaultEndpoint(
        { DOCKER_HOST: 'tcp://10.0.0.5', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/certs' },
        '/cfg',
        exists,
      ),
    ).toEqual({
      host: 'tcp://10.0.0.5:2376',
      source: 'DOCKER_HOST',
      tls: { verify: true, ca: undefined, cert: path.join('/certs', 'cert.pem'), key: path.join('/certs', 'key.pem') },
    });
  });

  it('reads certificates from the Docker config folder by default, and DOCKER_TLS means TLS without verification', () => {
    expect(selectDefaultEndpoint({ DOCKER_HOST: 'h:1234', DOCKER_TLS: '1' }, '/cfg', all).tls).toEqual({
      verify: false,
      ca: '/cfg/ca.pem',
      cert: '/cfg/cert.pem',
      key: '/cfg/key.pem',
    });
  });

  it('speaks plain HTTP to a tcp host without TLS settings, and ignores TLS for unix sockets', () => {
    expect(selectDefaultEndpoint({ DOCKER_HOST: 'tcp://h' }, '/cfg', all)).toEqual({
      host: 'tcp://h:2375',
      source: 'DOCKER_HOST',
    });
    expect(
      selectDefaultEndpoint({ DOCKER_HOST: 'unix:///run/user/1000/docker.sock', DOCKER_TLS_VERIFY: '1' }, '/cfg', all),
    ).toEqual({
      host: 'unix:///run/user/1000/docker.sock',
      source: 'DOCKER_HOST',
    });
  });
});

describe('selectContextEndpoint', () => {
  const choice = { name: 'remote', source: 'DOCKER_CONTEXT' };

  it('uses the TLS files stored with the context', () => {
    const files = { ca: '/t/ca.pem', cert: '/t/cert.pem', key: '/t/key.pem' };
    expect(selectContextEndpoint(choice, { Host: 'tcp://192.0.2.1:2376', SkipTLSVerify: false }, files)).toEqual({
      host: 'tcp://192.0.2.1:2376',
      source: 'context "remote" (DOCKER_CONTEXT)',
      tls: { verify: true, ...files },
    });
  });

  it('honours SkipTLSVerify, and plain HTTP when there is no TLS data', () => {
    expect(selectContextEndpoint(choice, { Host: 'tcp://h:2376', SkipTLSVerify: true }, {}).tls).toEqual({
      verify: false,
    });
    expect(selectContextEndpoint(choice, { Host: 'tcp://h:2375' }, {}).tls).toBeUndefined();
    expect(selectContextEndpoint(choice, { Host: 'ssh://me@h' }, {}).host).toBe('ssh://me@h');
  });

  it('fails clearly for a context without a Docker endpoint', () => {
    expect(() => selectContextEndpoint(choice, undefined, {})).toThrow(
      'the docker context "remote" (DOCKER_CONTEXT) has no Docker endpoint',
    );
  });
});

describe('normalizeHost', () => {
  it('accepts the forms the docker CLI accepts', () => {
    expect(normalizeHost('unix:///x.sock', false, 's')).toBe('unix:///x.sock');
    expect(normalizeHost('tcp://h:1', true, 's')).toBe('tcp://h:1');
    expect(normalizeHost('h', true, 's')).toBe('tcp://h:2376');
    expect(normalizeHost('tcp://[::1]', false, 's')).toBe('tcp://[::1]:2375');
    expect(normalizeHost('ssh://me@h:2222', false, 's')).toBe('ssh://me@h:2222');
  });

  it('refuses others with the source named and no password shown', () => {
    expect(() => normalizeHost('npipe:////./pipe/docker_engine', false, 'DOCKER_HOST')).toThrow(
      'the Docker engine address "npipe:////./pipe/docker_engine" (from DOCKER_HOST) is not one run-docker can use',
    );
    expect(() => normalizeHost('ftp://me:hunter2@h', false, 'DOCKER_HOST')).toThrow('"ftp://me:***@h"');
    expect(redactHost('ssh://me:pw@h:22')).toBe('ssh://me:***@h:22');
  });
});

describe('toEngineConnection', () => {
  const read = (file: string) => Buffer.from(`contents of ${file}`);

  it('names the socket', () => {
    expect(toEngineConnection({ host: 'unix:///x.sock', source: 'DOCKER_HOST' }, read)).toEqual({
      socketPath: '/x.sock',
    });
  });

  it('reads the TLS files and verifies by default', () => {
    const connection = toEngineConnection(
      {
        host: 'tcp://h:2376',
        source: 'DOCKER_HOST',
        tls: { verify: true, ca: '/c/ca.pem', cert: '/c/cert.pem', key: '/c/key.pem' },
      },
      read,
    );
    expect(connection).toEqual({
      host: 'h',
      port: 2376,
      tls: true,
      ca: read('/c/ca.pem'),
      cert: read('/c/cert.pem'),
      key: read('/c/key.pem'),
    });
  });

  it('carries "do not verify" in an https agent', () => {
    const connection = toEngineConnection({ host: 'tcp://h:2376', source: 's', tls: { verify: false } }, read) as {
      agent?: { options?: { rejectUnauthorized?: boolean } };
    };
    expect(connection.agent?.options?.rejectUnauthorized).toBe(false);
  });

  it('plain tcp without TLS material', () => {
    expect(toEngineConnection({ host: 'tcp://h:2375', source: 's' }, read)).toEqual({ host: 'h', port: 2375 });
  });

  it('reaches ssh engines through a connection made per request, reading no key itself', () => {
    const unread = () => {
      throw new Error('nothing is read for ssh');
    };
    expect(toEngineConnection({ host: 'ssh://me@h:2222', source: 's' }, unread)).toEqual({
      connect: expect.any(Function) as unknown,
    });
  });
});

describe('buildSshArgs: as the docker CLI runs ssh', () => {
  it('passes user and port as flags, and the host after --', () => {
    expect(buildSshArgs('ssh://me@h:2222')).toEqual([
      '-o',
      'ConnectTimeout=30',
      '-T',
      '-l',
      'me',
      '-p',
      '2222',
      '--',
      'h',
      'docker',
      'system',
      'dial-stdio',
    ]);
    expect(buildSshArgs('ssh://h')).toEqual([
      '-o',
      'ConnectTimeout=30',
      '-T',
      '--',
      'h',
      'docker',
      'system',
      'dial-stdio',
    ]);
    // A host that looks like an option stays a host: it comes after --.
    expect(buildSshArgs('ssh://[::1]:22').slice(-5)).toEqual(['--', '::1', 'docker', 'system', 'dial-stdio']);
  });
});

describe('plainUnixSocketPath', () => {
  it('gives what a URL parser gives for plain socket paths, and leaves every other address to it', () => {
    for (const host of [
      'unix:///var/run/docker.sock',
      'unix:///run/user/1000/docker.sock',
      'unix:///home/a_b/.docker/run/docker.sock',
    ]) {
      expect(plainUnixSocketPath(host)).toBe(new URL(host).pathname);
    }
    for (const host of [
      'unix://',
      'unix:///var/../run/docker.sock',
      'unix:///var/./docker.sock',
      'unix:///var/..',
      'unix:///.',
      'unix:///a b.sock',
      'unix:///a%20b.sock',
      'unix://host/x.sock',
      'tcp://1.2.3.4:2375',
      'unix:////x',
    ]) {
      expect(plainUnixSocketPath(host)).toBeUndefined();
    }
  });
});
