/**
 * An EngineClient in memory, for unit tests of the orchestration above the engine (which
 * mini runs, which tag, which warning): images on the host, a registry to pull from with
 * the failures a fleet sees (missing, refused, rate limited, unreachable, stalled), and
 * containers that are created and removed. Exports and archives are real tar streams, so
 * the shim's own extraction code reads them. The real engine is the integration tests' job.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pack as packTarStream } from 'tar-stream';
import type {
  ContainerSpec,
  EngineClient,
  EngineIdentity,
  EnginePullOptions,
  ImageDetails,
  PullEvent,
} from '../../contract/contract';

export interface FakeImage {
  labels?: Record<string, string>;
  /** Absolute paths in the image's file system and their contents. */
  files?: Record<string, string | Buffer>;
  /** Reported size; by default the sum of the files. */
  size?: number;
  /** The engine's record of its digests (RepoDigests); by default the `repo@sha256:…` names it was added under. */
  repoDigests?: string[];
}

/** How a pull from the fake registry goes, beyond "the image is there" or "it is not". */
export type PullBehaviour =
  /** An error event inside an HTTP 200 stream, as dockerd reports most failures. */
  | { errorEvent: string }
  /** The engine refuses the request itself (with `statusCode`, as docker-modem rejects an answer outside 2xx). */
  | { refuse: string; statusCode?: number }
  /** Nothing ever arrives, until the caller gives up. */
  | 'stall';

interface StoredImage {
  id: string;
  labels: Record<string, string>;
  files: Map<string, Buffer>;
  size: number;
  repoDigests?: string[];
}

export interface FakeEngine extends EngineClient {
  /** One line per call, in order: `inspectImage x:1`, `pullImage x:1`, … */
  calls: string[];
  /** Puts an image on the host under `references` (`repo:tag`); its ID. */
  addImage(references: string | string[], image: FakeImage): string;
  /** Makes an image pullable as `reference` (`repo:tag`). */
  publish(reference: string, image: FakeImage): void;
  /** How pulls of `reference` fail (or stall). */
  failPull(reference: string, behaviour: PullBehaviour): void;
  /** References on the host. */
  references(): string[];
  /** Containers that exist now, by ID. */
  containers: Map<string, ContainerSpec>;
}

export interface FakeEngineOptions {
  /** What GET /info answers; an Error makes it fail. */
  info?: unknown;
  /** Every call fails as a socket that is not there (ENOENT). */
  unreachable?: boolean;
  /** What identify() says (the Server header's engine); Docker 20.10 by default. */
  identity?: EngineIdentity;
  /** What Podman's own /info answers (readPodmanInfo); an Error makes it fail. */
  podmanInfo?: unknown;
}

export function createFakeEngine({
  info = { ID: 'FAKE-ENGINE', RegistryConfig: { InsecureRegistryCIDRs: ['127.0.0.0/8'], IndexConfigs: {} } },
  unreachable = false,
  identity = { kind: 'docker', version: '20.10.24+dfsg1' },
  podmanInfo = new Error('(HTTP code 404) page not found - not Podman '),
}: FakeEngineOptions = {}): FakeEngine {
  const images = new Map<string, StoredImage>();
  const tags = new Map<string, string>();
  const registry = new Map<string, StoredImage>();
  const pullFailures = new Map<string, PullBehaviour>();
  const containers = new Map<string, ContainerSpec>();
  const calls: string[] = [];
  let containerCount = 0;

  const store = (image: FakeImage): StoredImage => {
    const files = new Map(Object.entries(image.files ?? {}).map(([path, content]) => [path, Buffer.from(content)]));
    const labels = image.labels ?? {};
    const digest = createHash('sha256')
      .update(JSON.stringify({ labels, files: [...files].map(([path, bytes]) => [path, bytes.toString('base64')]) }))
      .digest('hex');
    const size = image.size ?? [...files.values()].reduce((sum, bytes) => sum + bytes.length, 0);
    return {
      id: `sha256:${digest}`,
      labels,
      files,
      size,
      ...(image.repoDigests ? { repoDigests: image.repoDigests } : {}),
    };
  };
  const find = (name: string): StoredImage | undefined => images.get(name) ?? images.get(tags.get(name) ?? '');
  const noSuch = (what: string) =>
    Object.assign(new Error(`(HTTP code 404) no such ${what} - No such ${what}: ${what} `), { statusCode: 404 });
  const call = (line: string) => {
    calls.push(line);
    if (unreachable)
      throw Object.assign(new Error('connect ENOENT /var/run/docker.sock'), { code: 'ENOENT', syscall: 'connect' });
  };

  return {
    calls,
    containers,
    addImage(references, image) {
      const stored = store(image);
      images.set(stored.id, stored);
      for (const reference of [references].flat()) tags.set(reference, stored.id);
      return stored.id;
    },
    publish(reference, image) {
      registry.set(reference, store(image));
    },
    failPull(reference, behaviour) {
      pullFailures.set(reference, behaviour);
    },
    references: () => [...tags.keys()],

    async listImageTags(repository) {
      call(`listImageTags ${repository}`);
      return [...tags.keys()]
        .filter(
          (reference) =>
            reference.startsWith(`${repository}:`) && !reference.slice(repository.length + 1).includes('/'),
        )
        .map((reference) => reference.slice(repository.length + 1));
    },
    async inspectImage(name): Promise<ImageDetails | undefined> {
      call(`inspectImage ${name}`);
      const image = find(name);
      const named = [...tags].filter(([reference, id]) => reference.includes('@') && id === image?.id);
      return (
        image && {
          id: image.id,
          labels: { ...image.labels },
          size: image.size,
          repoDigests: image.repoDigests ?? named.map(([reference]) => reference),
        }
      );
    },
    async exportImage(name) {
      call(`exportImage ${name}`);
      const image = find(name);
      if (!image) throw noSuch('image');
      // As `docker save` writes it: manifest.json naming one layer tarball.
      const layer = await packTar([...image.files].map(([path, bytes]) => [path.replace(/^\//, ''), bytes]));
      return Readable.from([
        await packTar([
          ['manifest.json', Buffer.from(JSON.stringify([{ Config: 'config.json', Layers: ['layer/layer.tar'] }]))],
          ['layer/layer.tar', layer],
        ]),
      ]);
    },
    async createContainer(spec) {
      call(`createContainer ${spec.image}`);
      if (!find(spec.image)) throw noSuch('image');
      const id = `container-${++containerCount}`;
      containers.set(id, spec);
      return id;
    },
    async copyFromContainer(id, path) {
      call(`copyFromContainer ${id} ${path}`);
      const spec = containers.get(id);
      if (!spec) throw noSuch('container');
      const image = find(spec.image)!;
      // As GET /containers/{id}/archive names them: from the last part of `path` on.
      const parent = path.slice(0, path.lastIndexOf('/') + 1);
      const entries = [...image.files]
        .filter(([file]) => file === path || file.startsWith(`${path}/`))
        .map(([file, bytes]): [string, Buffer] => [file.slice(parent.length), bytes]);
      if (entries.length === 0)
        throw Object.assign(
          new Error(`(HTTP code 404) no such file - Could not find the file ${path} in container ${id} `),
          { statusCode: 404 },
        );
      return Readable.from([await packTar(entries)]);
    },
    async removeContainer(id) {
      call(`removeContainer ${id}`);
      if (!containers.delete(id)) throw noSuch('container');
    },
    async listContainers(label) {
      call(`listContainers ${label}`);
      return [...containers]
        .filter(([, spec]) => label in spec.labels)
        .map(([id, spec]) => ({ id, labels: { ...spec.labels } }));
    },
    async readInfo() {
      call('readInfo');
      if (info instanceof Error) throw info;
      return info;
    },
    async identify() {
      return identity;
    },
    async readPodmanInfo() {
      call('readPodmanInfo');
      if (podmanInfo instanceof Error) throw podmanInfo;
      return podmanInfo;
    },
    async pullImage(repository, tag, options) {
      const reference = `${repository}${tag.startsWith('sha256:') ? '@' : ':'}${tag}`;
      call(`pullImage ${reference}`);
      await pull(reference, options);
    },
  };

  async function pull(reference: string, { signal, onEvent }: EnginePullOptions): Promise<void> {
    const failure = pullFailures.get(reference);
    if (failure === 'stall') {
      await new Promise<void>((_resolve, reject) => {
        const abort = () => reject(Object.assign(new Error('the pull was cancelled'), { code: 'ABORT_ERR' }));
        if (signal?.aborted) abort();
        else signal?.addEventListener('abort', abort);
      });
      return;
    }
    if (failure && 'refuse' in failure) {
      if (failure.statusCode === undefined) throw new Error(`(HTTP code 500) server error - ${failure.refuse} `);
      throw Object.assign(new Error(`(HTTP code ${failure.statusCode}) unexpected - ${failure.refuse} `), {
        statusCode: failure.statusCode,
        json: { message: failure.refuse },
      });
    }
    const pulling: PullEvent = {
      status: `Pulling from ${reference.split(/[:@]/)[0]}`,
      id: reference.split(/[:@]/).pop(),
    };
    if (failure && 'errorEvent' in failure) {
      for (const event of [pulling, { errorDetail: { message: failure.errorEvent }, error: failure.errorEvent }])
        onEvent(event);
      return;
    }
    const image = registry.get(reference);
    if (!image)
      throw Object.assign(
        new Error(
          `(HTTP code 404) unexpected - manifest for ${reference} not found: manifest unknown: manifest unknown `,
        ),
        { statusCode: 404 },
      );
    const events: PullEvent[] = [
      pulling,
      { status: 'Pull complete', id: 'layer1' },
      { status: `Digest: ${image.id}` },
      { status: `Status: Downloaded newer image for ${reference}` },
    ];
    images.set(image.id, image);
    tags.set(reference, image.id);
    for (const event of events) onEvent(event);
  }
}

/** A tar archive of `entries` (name, bytes). */
function packTar(entries: Array<[string, Buffer]>): Promise<Buffer> {
  const pack = packTarStream();
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    pack.on('data', (chunk: unknown) => {
      chunks.push(chunk as Buffer);
    });
    pack.on('end', () => resolve(Buffer.concat(chunks)));
    pack.on('error', reject);
  });
  for (const [name, bytes] of entries) pack.entry({ name }, bytes);
  pack.finalize();
  return done;
}
