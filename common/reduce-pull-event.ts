/**
 * What a pull has shown so far, built from the engine's pull events (pure).
 * Engine API: POST /images/create streams JSON messages; those with an `id` and a layer
 * status describe one layer, the rest describe the whole pull
 * (https://docs.docker.com/reference/api/engine/version/v1.41/#tag/Image/operation/ImageCreate).
 */
import { makePrintable } from './make-printable';
import type { PullEvent } from './pull-image';

export interface LayerProgress {
  /** Short layer ID, as the engine sends it (12 hex digits). */
  id: string;
  /** The engine's words: "Pulling fs layer", "Downloading", "Extracting", "Pull complete", … */
  status: string;
  /** Bytes so far in this status; undefined when the engine sends none. */
  current?: number;
  /** Bytes in all; undefined when unknown (0 or absent: the containerd store's "Extracting"). */
  total?: number;
}

export interface PullProgressState {
  /** Lines about the whole pull before any layer ("1.0.0: Pulling from team/app"). */
  header: readonly string[];
  /** In the order the engine first named them, as `docker pull` lists them. */
  layers: readonly LayerProgress[];
  /** Lines about the whole pull after layers appeared ("Digest: sha256:…", "Status: …"). */
  footer: readonly string[];
}

export const EMPTY_PULL_PROGRESS: PullProgressState = { header: [], layers: [], footer: [] };

/** A layer is finished for good; "Download complete" still has to be extracted. */
export function isLayerFinished(layer: LayerProgress): boolean {
  return layer.status === 'Pull complete' || layer.status === 'Already exists';
}

/** The event with the layer it is about, or undefined when it is about the whole pull. */
export function layerIdOf(event: PullEvent): string | undefined {
  // "Pulling from <repo>" carries the tag as its id but is about the whole pull.
  if (!event.id || !event.status || event.status.startsWith('Pulling from ')) return undefined;
  return event.id;
}

/** The line a whole-pull event shows, as `docker pull` writes it. */
export function formatPullNote(event: PullEvent): string {
  return event.id ? `${event.id}: ${event.status}` : `${event.status}`;
}

/** The event's words as they may be shown on a terminal: the engine relays what registries say. */
export function printablePullEvent(event: PullEvent): PullEvent {
  return {
    ...event,
    ...(typeof event.status === 'string' ? { status: makePrintable(event.status) } : {}),
    ...(typeof event.id === 'string' ? { id: makePrintable(event.id) } : {}),
  };
}

export function reducePullEvent(state: PullProgressState, rawEvent: PullEvent): PullProgressState {
  const event = printablePullEvent(rawEvent);
  if (!event.status) return state;
  const id = layerIdOf(event);
  if (id === undefined) {
    const note = formatPullNote(event);
    return state.layers.length === 0
      ? { ...state, header: [...state.header, note] }
      : { ...state, footer: [...state.footer, note] };
  }
  const layer: LayerProgress = { id, status: event.status, ...readBytes(event) };
  const index = state.layers.findIndex((known) => known.id === id);
  const layers = index < 0 ? [...state.layers, layer] : state.layers.map((known, at) => (at === index ? layer : known));
  return { ...state, layers };
}

/** Only counts that make sense: a total of 0 means unknown, and nothing negative or NaN. */
function readBytes(event: PullEvent): Pick<LayerProgress, 'current' | 'total'> {
  const { current, total } = event.progressDetail ?? {};
  const isCount = (value: number | undefined): value is number =>
    typeof value === 'number' && Number.isFinite(value) && value >= 0;
  return {
    ...(isCount(current) ? { current } : {}),
    ...(isCount(total) && total > 0 ? { total } : {}),
  };
}
