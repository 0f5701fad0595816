/**
 * A pull over the light client: `POST /images/create?fromImage=…&tag=…` with the login as
 * `X-Registry-Auth`, its answer a stream of JSON lines followed to the end
 * (https://docs.docker.com/reference/api/engine/version/v1.41/#tag/Image/operation/ImageCreate).
 * Every line is handed on, errors included: the engine reports a failed pull as an
 * `{error, errorDetail}` line inside an HTTP 200 stream, and pull-image.ts decides what each
 * line means (and cancels a pull that makes no progress, through `signal`). This is what
 * dockerode's createImage and docker-modem's followProgress did, without loading them.
 */
import type { EnginePullOptions, PullEvent, RegistryAuth } from '../../contract/engine-client';
import { formatQuery, type EngineRequest } from './light-engine-client';

/** A progress line is ~200 bytes; one without end is not an engine's. */
export const MAX_PULL_LINE_BYTES = 1024 * 1024;

/** Pure: the `X-Registry-Auth` value: the login as JSON, base64url (as the docker CLI and docker-modem send it). */
export function encodeRegistryAuth(auth: RegistryAuth): string {
  return Buffer.from(JSON.stringify(auth)).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

/**
 * Pure: splits `buffered` + `chunk` into complete lines (CRLF or LF, blank ones dropped) and
 * what is left of an unfinished one.
 */
export function splitJsonLines(buffered: string, chunk: string): { lines: string[]; rest: string } {
  const parts = (buffered + chunk).split('\n');
  const rest = parts.pop() ?? '';
  const lines = parts.map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line)).filter((line) => line !== '');
  return { lines, rest };
}

export async function pullOverEngineApi(
  request: EngineRequest,
  repository: string,
  tag: string,
  { auth, signal, onEvent }: EnginePullOptions,
): Promise<void> {
  const stream = (await request({
    method: 'POST',
    path: `/images/create${formatQuery({ fromImage: repository, tag })}`,
    stream: true,
    idleTimeout: false,
    ...(auth ? { headers: { 'X-Registry-Auth': encodeRegistryAuth(auth) } } : {}),
    ...(signal ? { signal } : {}),
  })) as NodeJS.ReadableStream;
  await new Promise<void>((resolve, reject) => {
    let rest = '';
    let done = false;
    const fail = (error: Error) => {
      if (done) return;
      done = true;
      (stream as { destroy?: (error?: Error) => void }).destroy?.();
      reject(error);
    };
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      if (done) return;
      const split = splitJsonLines(rest, chunk);
      rest = split.rest;
      if (rest.length > MAX_PULL_LINE_BYTES) {
        fail(new Error(`the engine sent a pull progress line longer than ${MAX_PULL_LINE_BYTES} bytes`));
        return;
      }
      for (const line of split.lines) {
        let event: PullEvent;
        try {
          event = JSON.parse(line) as PullEvent;
        } catch {
          fail(new Error(`the engine sent a pull progress line that is not JSON: ${line.slice(0, 80)}`));
          return;
        }
        onEvent(event);
        if (done) return;
      }
    });
    stream.on('error', fail);
    stream.on('end', () => {
      if (done) return;
      done = true;
      if (rest.trim() !== '') {
        try {
          onEvent(JSON.parse(rest) as PullEvent);
        } catch {
          reject(new Error(`the engine ended a pull with a line that is not JSON: ${rest.slice(0, 80)}`));
          return;
        }
      }
      resolve();
    });
  });
}
