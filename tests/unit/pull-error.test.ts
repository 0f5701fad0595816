import { parseImageRef } from '../../common/image-ref';
import {
  createPullProgressTracker,
  isRegistryUnusablePull,
  pullImage,
  toPullError,
  type PullEvent,
} from '../../common/pull-image';
import { createFakeEngine } from '../helpers/fake-engine';

describe('toPullError', () => {
  it.each([
    [
      'manifest for r/x:1 not found: manifest unknown: manifest unknown',
      /is not in its registry/,
      /Check the name and the tag/,
    ],
    [
      'Get "http://127.0.0.1:1/v2/": dial tcp 127.0.0.1:1: connect: connection refused',
      /cannot reach the registry/,
      /--local/,
    ],
    [
      'unauthorized: authentication required',
      /refused to let this host pull/,
      /^Log in with "docker login" \(with Podman: "podman login"\) or check your access/,
    ],
    [
      'toomanyrequests: You have reached your pull rate limit. You may increase the limit by authenticating and upgrading',
      /^the registry is rate limiting this host and refused to pull "r\/x:1" \(toomanyrequests: You have reached/,
      /Wait and try again, log in .* --local/,
    ],
    ['something else\nentirely', /could not pull "r\/x:1": something else entirely$/, /try again/],
  ])('%s', (detail, message, hint) => {
    const error = toPullError('r/x:1', detail);
    expect(error.message).toMatch(message);
    expect(error.hint).toMatch(hint);
    expect(error.exitCode).toBe(125);
  });
});

describe('pullImage', () => {
  it('says the engine refused the format of a reference it cannot read (HTTP 400), not that the pull failed', async () => {
    const engine = createFakeEngine();
    const reference = '[::ffff:7f00:1]:5000/team/app:1.0';
    engine.failPull(reference, { refuse: 'invalid reference format', statusCode: 400 });
    const failure = await pullImage(engine, parseImageRef(reference)).catch((error: unknown) => error);
    expect(failure).toMatchObject({
      message: `the engine refused the format of the image reference "${reference}" (HTTP 400: invalid reference format)`,
      exitCode: 125,
    });
    expect(isRegistryUnusablePull(failure)).toBe(false);
  });
});

describe('isRegistryUnusablePull', () => {
  it('is true for a registry that rate limits or cannot be reached, false when the image or the access is wrong', () => {
    const failing = (detail: string) => isRegistryUnusablePull(toPullError('r/x:1', detail));
    expect(failing('toomanyrequests: You have reached your pull rate limit.')).toBe(true);
    expect(failing('Get "http://127.0.0.1:1/v2/": dial tcp 127.0.0.1:1: connect: connection refused')).toBe(true);
    expect(failing('manifest unknown')).toBe(false);
    expect(failing('unauthorized: authentication required')).toBe(false);
    expect(failing('something else')).toBe(false);
    expect(isRegistryUnusablePull(new Error('toomanyrequests'))).toBe(false);
  });
});

describe('createPullProgressTracker', () => {
  it("counts new bytes and new steps as progress, never dockerd's retry countdown or bytes it already had", () => {
    const isProgress = createPullProgressTracker();
    const events: Array<[PullEvent, boolean]> = [
      [{ status: 'Pulling from team/app', id: '1.0' }, true],
      [{ status: 'Pulling fs layer', id: 'a1' }, true],
      [{ status: 'Downloading', id: 'a1', progressDetail: { current: 1000, total: 9000 } }, true],
      [{ status: 'Downloading', id: 'a1', progressDetail: { current: 5000, total: 9000 } }, true],
      [{ status: 'Retrying in 5 seconds', id: 'a1' }, false],
      [{ status: 'Retrying in 4 seconds', id: 'a1' }, false],
      [{ status: 'Retrying in 1 second', id: 'a1' }, false],
      [{ status: 'Downloading', id: 'a1', progressDetail: { current: 5000, total: 9000 } }, false],
      [{ status: 'Downloading', id: 'a1', progressDetail: { current: 2000, total: 9000 } }, false],
      [{ status: 'Downloading', id: 'a1', progressDetail: { current: 6000, total: 9000 } }, true],
      [{ status: 'Waiting', id: 'b2' }, true],
      [{ status: 'Waiting', id: 'b2' }, false],
      [{ status: 'Download complete', id: 'a1' }, true],
      [{ status: 'Extracting', id: 'a1', progressDetail: { current: 100 } }, true],
      [{ status: 'Pull complete', id: 'a1' }, true],
    ];
    expect(events.map(([event]) => isProgress(event))).toEqual(events.map(([, expected]) => expected));
  });
});

describe('a plain-HTTP registry the engine treats as secure (Podman: every registry registries.conf does not list as insecure, loopback included)', () => {
  it('is a registry this host cannot use as things are, whose hint names the registries.conf fix', () => {
    const error = toPullError(
      '127.0.0.1:5000/team/app:2.0.0',
      'initializing source docker://127.0.0.1:5000/team/app:2.0.0: pinging container registry 127.0.0.1:5000: Get "https://127.0.0.1:5000/v2/": http: server gave HTTP response to HTTPS client',
    );
    expect(error.message).toMatch(
      /^the engine cannot pull "127\.0\.0\.1:5000\/team\/app:2\.0\.0": its registry answers plain HTTP, and the engine treats it as secure \(/,
    );
    expect(error.hint).toContain('[[registry]] location = "127.0.0.1:5000" insecure = true');
    // Not pinned: the newest image on the host runs, with one warning (resolve-image.ts).
    expect(isRegistryUnusablePull(error)).toBe(true);
  });
});
