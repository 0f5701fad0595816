import { toPullError } from '../../common/pull-image';

describe('toPullError', () => {
  it.each([
    ['manifest for r/x:1 not found: manifest unknown: manifest unknown', /is not in its registry/, /Check the name and the tag/],
    ['Get "http://127.0.0.1:1/v2/": dial tcp 127.0.0.1:1: connect: connection refused', /cannot reach the registry/, /--local/],
    ['unauthorized: authentication required', /refused to let this host pull/, /docker login/],
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
