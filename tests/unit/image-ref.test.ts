import { formatImageRef, formatRepository, isPinned, parseImageRef, registryApiHost } from '../../common/image-ref';

describe('parseImageRef', () => {
  it.each([
    ['python', { registry: 'docker.io', path: 'library/python', tag: undefined, digest: undefined }],
    ['python:3.12', { registry: 'docker.io', path: 'library/python', tag: '3.12', digest: undefined }],
    ['team/app', { registry: 'docker.io', path: 'team/app', tag: undefined, digest: undefined }],
    ['docker.io/library/busybox:1', { registry: 'docker.io', path: 'library/busybox', tag: '1', digest: undefined }],
    ['index.docker.io/team/app', { registry: 'docker.io', path: 'team/app', tag: undefined, digest: undefined }],
    ['ghcr.io/org/team/app:v1.2.3', { registry: 'ghcr.io', path: 'org/team/app', tag: 'v1.2.3', digest: undefined }],
    [
      '127.0.0.1:5000/run-docker/mini',
      { registry: '127.0.0.1:5000', path: 'run-docker/mini', tag: undefined, digest: undefined },
    ],
    [
      'localhost/app:20210502-002343',
      { registry: 'localhost', path: 'app', tag: '20210502-002343', digest: undefined },
    ],
    ['localhost:5000/app', { registry: 'localhost:5000', path: 'app', tag: undefined, digest: undefined }],
    ['[::1]:5000/app:1', { registry: '[::1]:5000', path: 'app', tag: '1', digest: undefined }],
    [
      'my_project/sub__name/a-b.c',
      { registry: 'docker.io', path: 'my_project/sub__name/a-b.c', tag: undefined, digest: undefined },
    ],
  ])('%s', (text, expected) => {
    expect(parseImageRef(text)).toEqual(expected);
  });

  it('reads a digest, with or without a tag', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(parseImageRef(`127.0.0.1:5000/rd/tiny@${digest}`)).toEqual({
      registry: '127.0.0.1:5000',
      path: 'rd/tiny',
      tag: undefined,
      digest,
    });
    expect(parseImageRef(`rd/tiny:0.1.0@${digest}`)).toMatchObject({ path: 'rd/tiny', tag: '0.1.0', digest });
  });

  it('treats a first part without dot, colon or localhost as a namespace', () => {
    expect(parseImageRef('registry/app').registry).toBe('docker.io');
    expect(parseImageRef('registry/app').path).toBe('registry/app');
  });

  it.each([
    ['', 'it is empty'],
    ['App', 'lower-case'],
    ['app:', 'not a valid tag'],
    ['app:-x', 'not a valid tag'],
    [`app:${'x'.repeat(129)}`, 'not a valid tag'],
    ['app@sha256:123', 'not a digest'],
    ['app@', 'not a digest'],
    ['a//b', 'not a valid name part'],
    ['a/b/', 'not a valid name part'],
    ['-app', 'not a valid name part'],
    ['app name', 'not a valid'],
    ['bad_host.example:port/app', 'not a registry host'],
    [`x/${'a'.repeat(260)}`, 'longer than 255'],
  ])('rejects %j with a message that says why', (text, why) => {
    expect(() => parseImageRef(text, 'RUN_DOCKER_MINI')).toThrow(why);
    expect(() => parseImageRef(text, 'RUN_DOCKER_MINI')).toThrow(
      /^RUN_DOCKER_MINI ".*" is not a valid image reference/,
    );
  });
});

describe('formatting', () => {
  it('gives Docker Hub repositories their familiar form', () => {
    expect(formatRepository(parseImageRef('docker.io/library/python'))).toBe('python');
    expect(formatRepository(parseImageRef('team/app'))).toBe('team/app');
    expect(formatRepository(parseImageRef('127.0.0.1:5000/a/b:1'))).toBe('127.0.0.1:5000/a/b');
    expect(formatImageRef(parseImageRef('python:3'))).toBe('python:3');
  });

  it('sends Docker Hub API calls to registry-1.docker.io and others to their host', () => {
    expect(registryApiHost('docker.io')).toBe('registry-1.docker.io');
    expect(registryApiHost('ghcr.io')).toBe('ghcr.io');
    expect(registryApiHost('127.0.0.1:5000')).toBe('127.0.0.1:5000');
  });

  it('knows a pinned reference from one that follows the newest', () => {
    expect(isPinned(parseImageRef('a/b'))).toBe(false);
    expect(isPinned(parseImageRef('a/b:1'))).toBe(true);
    expect(isPinned(parseImageRef(`a/b@sha256:${'0'.repeat(64)}`))).toBe(true);
  });
});
