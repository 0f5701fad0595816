/**
 * Pull progress for a log or a pipe (pure): a line when a layer's status changes, never one
 * per progress tick (the engine sends dozens a second), and every whole-pull line.
 */
import type { PullEvent } from './pull-image';
import { formatPullNote, layerIdOf, printablePullEvent, type PullProgressState } from './reduce-pull-event';

/** The line to print for `event`, given the state before it; undefined when nothing changed. */
export function formatPlainPullLine(before: PullProgressState, rawEvent: PullEvent): string | undefined {
  const event = printablePullEvent(rawEvent);
  if (!event.status) return undefined;
  const id = layerIdOf(event);
  if (id === undefined) return formatPullNote(event);
  const previous = before.layers.find((layer) => layer.id === id);
  return previous?.status === event.status ? undefined : `${id}: ${event.status}`;
}
