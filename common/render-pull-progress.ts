/**
 * The frame a terminal shows during a pull (pure), in the docker CLI's words and shape:
 *
 *   1.0.0: Pulling from team/app
 *   3f4a1b2c9d0e: Downloading [=====>                ]  12.3MB/40.1MB
 *   8e46090afad2: Extracting   1.2MB
 *   9ce349894186: Pull complete
 *
 * Bounded by the terminal: no line is wider (a wrapped line would throw the redraw off by
 * one) and there are never more lines than rows, which is where bars taller than the
 * terminal break (the cursor cannot move above the top row).
 */
import { isLayerFinished, type LayerProgress, type PullProgressState } from './reduce-pull-event';

export interface ProgressView {
  /** Terminal columns and rows. */
  width: number;
  height: number;
  /** Colour escapes allowed (a TTY, and NO_COLOR unset or empty). */
  color: boolean;
}

/** As docker's bar at full width (jsonmessage.go); narrower terminals get a shorter one. */
const MAX_BAR_WIDTH = 50;
const MIN_BAR_WIDTH = 10;
/** "Downloading" and "Extracting " line up so their bars start in one column. */
const STATUS_WIDTH = 'Downloading'.length;
const GREEN = ['\x1b[32m', '\x1b[39m'] as const;

export function renderPullProgress(state: PullProgressState, view: ProgressView): string[] {
  // One column spare: a line exactly as wide as the terminal leaves some terminals wrapping.
  const columns = Math.max(view.width - 1, 20);
  const fit = (segments: Segment[]) => fitSegments(segments, columns, view.color);
  // One row spare: log-update keeps the cursor on the line below the frame.
  const rows = Math.max(view.height - 1, 1);
  const notes = [...state.header, ...state.footer];
  const layerRows = Math.max(rows - notes.length, 2);
  return [
    ...state.header.map((note) => fit([{ text: note }])),
    ...selectVisibleLayers(state.layers, layerRows).map((line) =>
      fit(typeof line === 'string' ? [{ text: line }] : formatLayer(line, columns)),
    ),
    ...state.footer.map((note) => fit([{ text: note }])),
  ];
}

/**
 * The layers to list in `rows` lines, in the engine's order. When they do not all fit, the
 * ones moving win over those waiting, and those waiting over those finished; the rest are
 * counted in one last line.
 */
export function selectVisibleLayers(layers: readonly LayerProgress[], rows: number): (LayerProgress | string)[] {
  if (layers.length <= rows) return [...layers];
  const slots = Math.max(rows - 1, 0);
  const shown = new Set(
    layers
      .map((layer, index) => ({ layer, index, rank: rankOf(layer) }))
      .sort((a, b) => a.rank - b.rank || a.index - b.index)
      .slice(0, slots)
      .map(({ layer }) => layer),
  );
  const hidden = layers.filter((layer) => !shown.has(layer));
  const count = (rank: number) => hidden.filter((layer) => rankOf(layer) === rank).length;
  const parts = [
    [count(0), 'in progress'],
    [count(1), 'waiting'],
    [count(2), 'complete'],
  ]
    .filter(([n]) => n !== 0)
    .map(([n, what]) => `${n} ${what}`);
  const noun = hidden.length === 1 ? 'layer' : 'layers';
  return [...layers.filter((layer) => shown.has(layer)), `… and ${hidden.length} more ${noun} (${parts.join(', ')})`];
}

/** 0: moving bytes or verifying, 1: not started or waiting to be extracted, 2: finished. */
function rankOf(layer: LayerProgress): number {
  if (isLayerFinished(layer)) return 2;
  if (layer.status === 'Pulling fs layer' || layer.status === 'Waiting' || layer.status === 'Download complete')
    return 1;
  return 0;
}

interface Segment {
  text: string;
  /** Escape pair around the text when colour is on. */
  color?: readonly [string, string];
}

function formatLayer(layer: LayerProgress, columns: number): Segment[] {
  const head: Segment[] = [
    { text: `${layer.id}: ` },
    { text: layer.status, color: isLayerFinished(layer) ? GREEN : undefined },
  ];
  if (layer.current === undefined) return head;
  if (layer.total === undefined) {
    // The containerd store's "Extracting" has no total: bytes only, no bar, no percentage.
    return [...head, { text: ` ${formatBytes(layer.current)}` }];
  }
  const numbers = `${formatBytes(layer.current).padStart(8)}/${formatBytes(layer.total)}`;
  const prefix = `${layer.id}: ${layer.status.padEnd(STATUS_WIDTH)} `;
  const barWidth = Math.min(MAX_BAR_WIDTH, columns - prefix.length - numbers.length - 3);
  if (barWidth < MIN_BAR_WIDTH) return [...head, { text: ` ${numbers}` }];
  return [{ text: prefix }, { text: `${formatBar(layer.current / layer.total, barWidth)} ${numbers}` }];
}

/** `[=====>     ]` with `width` characters inside; a full bar has no arrow head. */
export function formatBar(ratio: number, width: number): string {
  const filled = Math.floor(Math.min(Math.max(ratio, 0), 1) * width);
  if (filled >= width) return `[${'='.repeat(width)}]`;
  return `[${'='.repeat(filled)}>${' '.repeat(width - filled - 1)}]`;
}

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];

/** Decimal units with four significant digits, as docker shows sizes (go-units HumanSize). */
export function formatBytes(bytes: number): string {
  let size = bytes;
  let unit = 0;
  while (size >= 1000 && unit < UNITS.length - 1) {
    size /= 1000;
    unit++;
  }
  return `${Number(size.toPrecision(4))}${UNITS[unit]}`;
}

/** The segments cut to `columns` characters, coloured only when allowed. */
function fitSegments(segments: Segment[], columns: number, color: boolean): string {
  let room = columns;
  let line = '';
  for (const segment of segments) {
    if (room <= 0) break;
    const text = segment.text.length > room ? segment.text.slice(0, room) : segment.text;
    room -= text.length;
    line += color && segment.color ? `${segment.color[0]}${text}${segment.color[1]}` : text;
  }
  return line;
}
