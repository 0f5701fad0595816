/**
 * Answers asked for early (payload/locator/registry/transport/early-answers.ts): given once,
 * only to the identical request, only while fresh; a failed early request is sent again.
 */
import {
  createEarlyAnswers,
  MAX_AGE_MS,
  requestIdentity,
  sendingEarly,
  takingEarly,
} from '../../payload/locator/registry/transport/early-answers';
import type { RawAnswer, RegistryRequest } from '../../payload/locator/registry/registry-request';
import type { SendRequest } from '../../payload/locator/registry/transport/send-with-node-http';

const URL_A = 'https://registry.test/v2/team/app/tags/list?n=1000';
const OPTIONS = { timeoutMs: 1000, maxBodyBytes: 1024 };

/** A sender that answers 200 with the number of the request it was, and records each. */
function countingSend(fail = false) {
  const sent: string[] = [];
  const send: SendRequest = (url, request) => {
    sent.push(`${request.method ?? 'GET'} ${url} ${request.headers?.Authorization ?? '-'}`);
    if (fail) return Promise.reject(Object.assign(new Error('reset'), { code: 'ECONNRESET' }));
    const answer: RawAnswer = { status: 200, headers: { get: () => null }, text: String(sent.length) };
    return Promise.resolve(answer);
  };
  return { sent, send };
}

const withToken = (token: string): RegistryRequest => ({
  headers: { Accept: 'application/json', Authorization: `Bearer ${token}` },
});

describe('requestIdentity', () => {
  it('is the same for the same request whatever the order and case of its headers', () => {
    expect(requestIdentity(URL_A, { headers: { Accept: 'application/json', Authorization: 'Bearer t' } })).toBe(
      requestIdentity(URL_A, { method: 'GET', headers: { authorization: 'Bearer t', accept: 'application/json' } }),
    );
  });

  it('differs in the URL, the authorization, the method, the body and the TLS settings', () => {
    const base = requestIdentity(URL_A, withToken('t'));
    expect(requestIdentity(`${URL_A}0`, withToken('t'))).not.toBe(base);
    expect(requestIdentity(URL_A, withToken('u'))).not.toBe(base);
    expect(requestIdentity(URL_A, { headers: { Accept: 'application/json' } })).not.toBe(base);
    expect(requestIdentity(URL_A, { ...withToken('t'), method: 'POST' })).not.toBe(base);
    expect(requestIdentity(URL_A, { ...withToken('t'), body: 'x' })).not.toBe(base);
    expect(requestIdentity(URL_A, { ...withToken('t'), tls: { ca: ['CA 1'] } })).not.toBe(
      requestIdentity(URL_A, { ...withToken('t'), tls: { ca: ['CA 2'] } }),
    );
    expect(requestIdentity(URL_A, { ...withToken('t'), tls: { rejectUnauthorized: false } })).not.toBe(base);
  });
});

describe('sendingEarly and takingEarly', () => {
  it('answer the identical later request with the early answer, once; any other request goes out', async () => {
    const store = createEarlyAnswers();
    const { sent, send } = countingSend();
    await sendingEarly(send, store)(URL_A, withToken('t'), OPTIONS);
    const later = takingEarly(send, store);

    expect((await later(URL_A, withToken('u'), OPTIONS)).text).toBe('2');
    expect((await later(URL_A, withToken('t'), OPTIONS)).text).toBe('1');
    expect((await later(URL_A, withToken('t'), OPTIONS)).text).toBe('3');
    expect(sent).toEqual([`GET ${URL_A} Bearer t`, `GET ${URL_A} Bearer u`, `GET ${URL_A} Bearer t`]);
  });

  it('send again when the early answer is older than MAX_AGE_MS', async () => {
    const store = createEarlyAnswers();
    const { sent, send } = countingSend();
    let now = 1_000_000;
    await sendingEarly(send, store, () => now)(URL_A, withToken('t'), OPTIONS);
    now += MAX_AGE_MS + 1;
    expect((await takingEarly(send, store, () => now)(URL_A, withToken('t'), OPTIONS)).text).toBe('2');
    expect(sent).toHaveLength(2);
  });

  it('send again when the early request failed, and leave no unhandled rejection behind', async () => {
    const store = createEarlyAnswers();
    const failing = countingSend(true);
    await expect(sendingEarly(failing.send, store)(URL_A, withToken('t'), OPTIONS)).rejects.toThrow('reset');
    const { sent, send } = countingSend();
    expect((await takingEarly(send, store)(URL_A, withToken('t'), OPTIONS)).text).toBe('1');
    expect(sent).toEqual([`GET ${URL_A} Bearer t`]);
  });
});
