/**
 * Pure: a per-host index of the local images of the repositories run-docker asks about, which
 * the engine vouches for through its event log (issue 24 item 1; docs/performance.md "Busy
 * hosts").
 *
 * Why: a warm call needs the tags of two or three repositories, but the engine can only list
 * every image (the `reference` filter walks them all too): 15 ms with 17 images, 100+ ms with
 * 2,000. Asking `GET /events?since=MARK&until=NOW` instead costs about as much whatever the
 * host holds (dockerd keeps its last 256 events in memory: moby daemon/events/events.go).
 *
 * When the index may answer: its mark (the newest event seen when it was written, kept as the
 * engine's own line) is the first event the engine gives back since then, and no event after
 * it can have changed an image. A mark the engine no longer has (more than 256 events since,
 * or an engine restarted: its memory starts empty) says nothing about what happened in between,
 * so the index is not used: the whole list is asked for and the index written again.
 */

/** One entry of GET /images/json, as the index keeps it. */
export interface IndexedImage {
  Id: string;
  RepoTags: string[];
  RepoDigests: string[];
  Labels: Record<string, string>;
  Size: number;
}

/** The newest event seen when the index was made: the engine's own line, and its time (ns, as text: beyond 2^53). */
export interface EventMark {
  timeNano: string;
  line: string;
}

export interface EngineImageIndex {
  mark: EventMark | undefined;
  /** Per repository (`127.0.0.1:5000/team/app`), the images that carry one of its names. */
  repositories: Record<string, IndexedImage[]>;
}

export type EventsVerdict =
  /** No image changed since the mark: the index answers. `newest` is the last event seen. */
  | { kind: 'unchanged'; newest: EventMark; eventsAfterMark: number }
  /** An image changed (pulled, tagged, built, loaded, removed…) since the mark. */
  | { kind: 'changed'; newest: EventMark; why: string }
  /** The engine no longer has the mark (its buffer moved on, or it restarted), or had no mark to give. */
  | { kind: 'lost'; newest: EventMark | undefined; why: string };

/** At most this many repositories are kept per engine (the ones asked about last). */
export const MAX_INDEXED_REPOSITORIES = 16;
/** An event line longer than this is not kept as a mark (dockerd's are ~400–700 bytes). */
const MAX_MARK_LINE = 4096;

/**
 * Event types and actions that leave every image as it was. Anything else, including a type
 * this code has never seen, counts as a change: the price of a wrong "unchanged" is running
 * an old image, of a wrong "changed" one image list.
 */
const CONTAINER_ACTIONS_THAT_MAKE_IMAGES = new Set(['commit']);
const IMAGE_ACTIONS_THAT_LEAVE_IMAGES = new Set(['save', 'push']);
const TYPES_THAT_LEAVE_IMAGES = new Set(['container', 'network', 'volume']);

/** `since`/`until` as the engine reads them: seconds, a dot, nanoseconds. */
export function formatEngineTime(timeNano: string): string {
  const padded = timeNano.padStart(10, '0');
  return `${padded.slice(0, -9)}.${padded.slice(-9)}`;
}

/** Now, on this host's clock, as formatEngineTime writes it. */
export function engineTimeOf(epochMs: number): string {
  return formatEngineTime(`${Math.floor(epochMs)}000000`);
}

/**
 * What the events since the mark say of the index. `text` is the engine's answer: one JSON
 * object per line, oldest first; `since` included the mark's own time, so the mark itself
 * comes first when the engine still has it.
 */
export function judgeEventsSinceMark(text: string, mark: EventMark | undefined): EventsVerdict {
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  const events: Array<{ line: string; timeNano: string; type: string; action: string }> = [];
  for (const line of lines) {
    const event = readEvent(line);
    if (event === undefined)
      return { kind: 'lost', newest: undefined, why: 'the engine sent an event this code cannot read' };
    events.push(event);
  }
  const last = events[events.length - 1];
  const newest = last && last.line.length <= MAX_MARK_LINE ? { timeNano: last.timeNano, line: last.line } : undefined;
  if (mark === undefined) return { kind: 'lost', newest, why: 'no mark yet' };
  const markAt = events.findIndex((event) => event.line === mark.line);
  // Events of the mark's own nanosecond may come before it; none may be missing after it.
  if (markAt < 0 || events.slice(0, markAt).some((event) => event.timeNano !== mark.timeNano))
    return {
      kind: 'lost',
      newest,
      why: 'the engine no longer has the last event seen (over 256 events since, or restarted)',
    };
  const change = events.slice(markAt + 1).find((event) => changesImages(event.type, event.action));
  if (change) return { kind: 'changed', newest: newest ?? mark, why: `${change.type} ${change.action}` };
  return { kind: 'unchanged', newest: newest ?? mark, eventsAfterMark: events.length - markAt - 1 };
}

function changesImages(type: string, action: string): boolean {
  if (type === 'image') return !IMAGE_ACTIONS_THAT_LEAVE_IMAGES.has(action);
  if (!TYPES_THAT_LEAVE_IMAGES.has(type)) return true;
  return type === 'container' && CONTAINER_ACTIONS_THAT_MAKE_IMAGES.has(action);
}

/**
 * One event line's type, action and time. The time is read from the text: JSON.parse would
 * round a nanosecond count (~1.8e18) to the nearest 256.
 */
function readEvent(line: string): { line: string; timeNano: string; type: string; action: string } | undefined {
  const event = parseJsonOrUndefined(line) as { Type?: unknown; Action?: unknown } | undefined;
  const timeNano = /"timeNano":(\d{1,20})[,}]/.exec(line)?.[1];
  if (typeof event?.Type !== 'string' || typeof event.Action !== 'string' || timeNano === undefined) return undefined;
  return { line, timeNano, type: event.Type, action: event.Action };
}

/** The repository a name `repo:tag` or `repo@sha256:…` belongs to, or undefined for any other name (an ID). */
export function repositoryOfName(name: string): string | undefined {
  const at = name.indexOf('@');
  if (at > 0) return name.slice(0, at);
  const colon = name.lastIndexOf(':');
  if (colon <= 0 || colon < name.lastIndexOf('/')) return undefined;
  return name.slice(0, colon);
}

/** The images of a full list that carry a name of `repository`, as the index keeps them. */
export function selectRepositoryImages(images: readonly unknown[], repository: string): IndexedImage[] {
  const named = (names: unknown, separator: string) =>
    Array.isArray(names) &&
    names.some(
      (name) =>
        typeof name === 'string' &&
        repositoryOfName(name) === repository &&
        name.charAt(repository.length) === separator,
    );
  const selected: IndexedImage[] = [];
  for (const image of images) {
    const entry = image as {
      Id?: unknown;
      RepoTags?: unknown;
      RepoDigests?: unknown;
      Labels?: unknown;
      Size?: unknown;
    };
    if (typeof entry?.Id !== 'string') continue;
    if (!named(entry.RepoTags, ':') && !named(entry.RepoDigests, '@')) continue;
    selected.push({
      Id: entry.Id,
      RepoTags: stringsOf(entry.RepoTags),
      RepoDigests: stringsOf(entry.RepoDigests),
      Labels: labelsOf(entry.Labels),
      Size: typeof entry.Size === 'number' ? entry.Size : 0,
    });
  }
  return selected;
}

/**
 * The index after a full list: the repositories asked about this call first, then those the
 * index held before (all read from the same list, so all as current as it), at most
 * MAX_INDEXED_REPOSITORIES.
 */
export function indexFromList(
  images: readonly unknown[],
  askedNow: readonly string[],
  heldBefore: readonly string[],
  mark: EventMark | undefined,
): EngineImageIndex {
  const names = [...new Set([...askedNow, ...heldBefore])].slice(0, MAX_INDEXED_REPOSITORIES);
  return { mark, repositories: Object.fromEntries(names.map((name) => [name, selectRepositoryImages(images, name)])) };
}

/**
 * The text of a record file: one index per engine socket, at most `maxEngines` (the last
 * written first); `index` undefined drops this engine's.
 */
export function formatIndexFile(
  held: Record<string, EngineImageIndex>,
  engine: string,
  index: EngineImageIndex | undefined,
  maxEngines = 4,
): string {
  const others = Object.entries(held).filter(([name]) => name !== engine);
  const kept = index === undefined ? others : [[engine, index] as const, ...others];
  const engines = Object.fromEntries(kept.slice(0, maxEngines));
  return `${JSON.stringify({ version: 1, engines })}\n`;
}

/** The indexes of a record file's text, or undefined when it is not one (then it counts as damaged). */
export function parseIndexFile(text: string): Record<string, EngineImageIndex> | undefined {
  const file = parseJsonOrUndefined(text) as { version?: unknown; engines?: unknown } | undefined;
  if (file?.version !== 1 || !isObject(file.engines)) return undefined;
  const engines: Record<string, EngineImageIndex> = {};
  for (const [engine, value] of Object.entries(file.engines)) {
    const index = readIndex(value);
    if (index === undefined) return undefined;
    engines[engine] = index;
  }
  return engines;
}

function readIndex(value: unknown): EngineImageIndex | undefined {
  if (!isObject(value) || !isObject(value.repositories)) return undefined;
  const mark = value.mark as { timeNano?: unknown; line?: unknown } | undefined;
  const validMark =
    mark === undefined ||
    (isObject(mark) &&
      typeof mark.timeNano === 'string' &&
      /^\d{1,20}$/.test(mark.timeNano) &&
      typeof mark.line === 'string');
  if (!validMark) return undefined;
  const repositories: Record<string, IndexedImage[]> = {};
  for (const [repository, images] of Object.entries(value.repositories)) {
    if (!Array.isArray(images)) return undefined;
    const kept = selectRepositoryImages(images, repository);
    if (kept.length !== images.length) return undefined;
    repositories[repository] = kept;
  }
  return {
    mark: mark === undefined ? undefined : { timeNano: mark.timeNano as string, line: mark.line as string },
    repositories,
  };
}

function parseJsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function stringsOf(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

function labelsOf(value: unknown): Record<string, string> {
  if (!isObject(value)) return {};
  return Object.fromEntries(
    Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
