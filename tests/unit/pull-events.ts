// Pull event sequences as the engine sends them, for the progress tests.
import type { PullEvent } from '../../common/pull-image';

/** Recorded from dockerd 20.10 (overlay2) pulling a three-layer image from a local registry. */
export const THREE_LAYER_PULL: PullEvent[] = [
  { status: 'Pulling from probe/app', id: '1' },
  { status: 'Pulling fs layer', progressDetail: {}, id: '4dd86f0b447e' },
  { status: 'Pulling fs layer', progressDetail: {}, id: '8e46090afad2' },
  { status: 'Pulling fs layer', progressDetail: {}, id: '9ce349894186' },
  {
    status: 'Downloading',
    progressDetail: { current: 36445, total: 1500650 },
    progress: '[=>    ]  36.45kB/1.501MB',
    id: '9ce349894186',
  },
  { status: 'Download complete', progressDetail: {}, id: '9ce349894186' },
  {
    status: 'Downloading',
    progressDetail: { current: 36445, total: 3001126 },
    progress: '[>     ]  36.45kB/3.001MB',
    id: '8e46090afad2',
  },
  {
    status: 'Downloading',
    progressDetail: { current: 36445, total: 1064337 },
    progress: '[=>    ]  36.45kB/1.064MB',
    id: '4dd86f0b447e',
  },
  {
    status: 'Downloading',
    progressDetail: { current: 1064337, total: 1064337 },
    progress: '[=====>]  1.064MB/1.064MB',
    id: '4dd86f0b447e',
  },
  { status: 'Verifying Checksum', progressDetail: {}, id: '4dd86f0b447e' },
  { status: 'Download complete', progressDetail: {}, id: '4dd86f0b447e' },
  {
    status: 'Extracting',
    progressDetail: { current: 32768, total: 1064337 },
    progress: '[=>    ]  32.77kB/1.064MB',
    id: '4dd86f0b447e',
  },
  { status: 'Verifying Checksum', progressDetail: {}, id: '8e46090afad2' },
  { status: 'Download complete', progressDetail: {}, id: '8e46090afad2' },
  {
    status: 'Extracting',
    progressDetail: { current: 98304, total: 1064337 },
    progress: '[====> ]   98.3kB/1.064MB',
    id: '4dd86f0b447e',
  },
  {
    status: 'Extracting',
    progressDetail: { current: 1064337, total: 1064337 },
    progress: '[=====>]  1.064MB/1.064MB',
    id: '4dd86f0b447e',
  },
  { status: 'Pull complete', progressDetail: {}, id: '4dd86f0b447e' },
  {
    status: 'Extracting',
    progressDetail: { current: 32768, total: 3001126 },
    progress: '[>     ]  32.77kB/3.001MB',
    id: '8e46090afad2',
  },
  {
    status: 'Extracting',
    progressDetail: { current: 3001126, total: 3001126 },
    progress: '[=====>]  3.001MB/3.001MB',
    id: '8e46090afad2',
  },
  { status: 'Pull complete', progressDetail: {}, id: '8e46090afad2' },
  {
    status: 'Extracting',
    progressDetail: { current: 32768, total: 1500650 },
    progress: '[=>    ]  32.77kB/1.501MB',
    id: '9ce349894186',
  },
  {
    status: 'Extracting',
    progressDetail: { current: 1500650, total: 1500650 },
    progress: '[=====>]  1.501MB/1.501MB',
    id: '9ce349894186',
  },
  { status: 'Pull complete', progressDetail: {}, id: '9ce349894186' },
  { status: 'Digest: sha256:11ba08271593cfd0bd904ea6c7791ce2bc4793551648d642260d054645633e49' },
  { status: 'Status: Downloaded newer image for 127.0.0.1:35571/probe/app:1' },
];

/** A pull where the base layer is already on the host. */
export const ALREADY_EXISTS_PULL: PullEvent[] = [
  { status: 'Pulling from team/app', id: '2.0.0' },
  { status: 'Already exists', progressDetail: {}, id: '4dd86f0b447e' },
  { status: 'Pulling fs layer', progressDetail: {}, id: 'a1b2c3d4e5f6' },
  { status: 'Downloading', progressDetail: { current: 512, total: 2048 }, id: 'a1b2c3d4e5f6' },
  { status: 'Download complete', progressDetail: {}, id: 'a1b2c3d4e5f6' },
  { status: 'Extracting', progressDetail: { current: 2048, total: 2048 }, id: 'a1b2c3d4e5f6' },
  { status: 'Pull complete', progressDetail: {}, id: 'a1b2c3d4e5f6' },
  { status: 'Digest: sha256:0000000000000000000000000000000000000000000000000000000000000000' },
  { status: 'Status: Downloaded newer image for team/app:2.0.0' },
];

/** The containerd image store: "Extracting" with bytes but no total (absent or 0). */
export const CONTAINERD_STORE_PULL: PullEvent[] = [
  { status: 'Pulling from team/app', id: '3.0.0' },
  { status: 'Pulling fs layer', progressDetail: {}, id: 'b1b2b3b4b5b6' },
  { status: 'Downloading', progressDetail: { current: 1000, total: 5000 }, id: 'b1b2b3b4b5b6' },
  { status: 'Download complete', progressDetail: {}, id: 'b1b2b3b4b5b6' },
  { status: 'Extracting', progressDetail: { current: 1234567 }, id: 'b1b2b3b4b5b6' },
  { status: 'Extracting', progressDetail: { current: 2345678, total: 0 }, id: 'b1b2b3b4b5b6' },
  { status: 'Extracting', progressDetail: {}, id: 'b1b2b3b4b5b6' },
  { status: 'Pull complete', progressDetail: {}, id: 'b1b2b3b4b5b6' },
  { status: 'Digest: sha256:1111111111111111111111111111111111111111111111111111111111111111' },
  { status: 'Status: Downloaded newer image for team/app:3.0.0' },
];

/** A 12-hex-digit layer ID for layer `n`. */
export function layerId(n: number): string {
  return n.toString(16).padStart(12, '0');
}

/**
 * A long pull of `count` layers, three downloading at a time as dockerd does by default
 * (max-concurrent-downloads), each in ten progress ticks; `stopAfter` layers complete.
 */
export function manyLayerPull(count: number, stopAfter = count): PullEvent[] {
  const events: PullEvent[] = [{ status: 'Pulling from team/big', id: 'latest' }];
  for (let n = 0; n < count; n++) events.push({ status: 'Pulling fs layer', progressDetail: {}, id: layerId(n) });
  for (let n = 3; n < count; n++) events.push({ status: 'Waiting', progressDetail: {}, id: layerId(n) });
  for (let n = 0; n < stopAfter; n++) {
    const total = 1_000_000 * (n + 1);
    for (let tick = 1; tick <= 10; tick++) {
      events.push({ status: 'Downloading', progressDetail: { current: (total * tick) / 10, total }, id: layerId(n) });
    }
    events.push({ status: 'Download complete', progressDetail: {}, id: layerId(n) });
    events.push({ status: 'Extracting', progressDetail: { current: total, total }, id: layerId(n) });
    events.push({ status: 'Pull complete', progressDetail: {}, id: layerId(n) });
  }
  return events;
}
