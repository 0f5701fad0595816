/**
 * The EngineClient (contract/engine-client.ts) through dockerode, for tests only: a client
 * other than run-docker's own (common/engine/light-engine-client.ts) to set up and look at
 * the engine with, so that a test of the light client does not check it against itself.
 * (Until issue 24 this was the shim's client for pulls and ssh engines:
 * docs/decisions/light-engine-client.md.)
 */
import type Dockerode from 'dockerode';
import type { EngineClient, EnginePullOptions } from '../../contract/engine-client';
import {
  answerBindSources,
  bindSourcesProbe,
  containersWithLabel,
  isNotFound,
  selectTagsOfRepository,
  toImageDetails,
} from '../../common/engine/light-engine-client';
import { parseVersionIdentity } from '../../common/engine/parse-engine-identity';

export function createDockerodeEngineClient(docker: Dockerode): EngineClient {
  let identity: ReturnType<NonNullable<EngineClient['identify']>> | undefined;
  return {
    // The engine's reference filter narrows the list; the names are matched again, exactly.
    listImageTags: async (repository) =>
      selectTagsOfRepository(await docker.listImages({ filters: { reference: [repository] } }), repository),
    inspectImage: async (name) => {
      try {
        return toImageDetails(await docker.getImage(name).inspect());
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },
    exportImage: (name) => docker.getImage(name).get(),
    createContainer: async ({ image, command, labels }) =>
      (await docker.createContainer({ Image: image, Cmd: command, Labels: labels, NetworkDisabled: true })).id,
    copyFromContainer: (id, path) => docker.getContainer(id).getArchive({ path }),
    removeContainer: async (id) => {
      await docker.getContainer(id).remove({ force: true });
    },
    listContainers: async (label) =>
      (await docker.listContainers(containersWithLabel(label))).map((container) => ({
        id: container.Id,
        labels: container.Labels ?? {},
      })),
    readInfo: () => docker.info() as Promise<unknown>,
    // dockerode shows no headers: GET /version names Podman among its components.
    identify: () => (identity ??= docker.version().then(parseVersionIdentity)),
    readPodmanInfo: () =>
      new Promise((resolve, reject) =>
        docker.modem.dial(
          { path: '/v4.0.0/libpod/info', method: 'GET', statusCodes: { 200: true }, options: {} },
          (error: Error | null, answer: unknown) => (error ? reject(error) : resolve(answer)),
        ),
      ),
    checkBindSources: (image, sources) =>
      answerBindSources(
        async () => {
          const container: Dockerode.Container = await docker.createContainer(bindSourcesProbe(image, sources));
          return container.id;
        },
        async (id) => {
          await docker.getContainer(id).remove({ force: true });
        },
      ),
    pullImage: (repository, tag, options) => pullWithDockerode(docker, repository, tag, options),
  };
}

/**
 * A pull through dockerode: POST /images/create, followed to the end of its stream with
 * docker-modem's followProgress, every event handed on (followProgress reports no error for
 * an error event inside an HTTP 200 stream: the caller checks them).
 */
export function pullWithDockerode(
  docker: Dockerode,
  repository: string,
  tag: string,
  { auth, signal, onEvent }: EnginePullOptions,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const query = { fromImage: repository, tag, ...(signal ? { abortSignal: signal } : {}) };
    const aborted = () => Object.assign(new Error('the pull was cancelled'), { code: 'ABORT_ERR' });
    if (signal?.aborted) {
      reject(aborted());
      return;
    }
    (auth ? docker.createImage(auth, query) : docker.createImage(query)).then((stream: NodeJS.ReadableStream) => {
      const destroy = () => (stream as { destroy?: () => void }).destroy?.();
      if (signal?.aborted) {
        destroy();
        reject(aborted());
        return;
      }
      signal?.addEventListener('abort', () => {
        destroy();
        reject(aborted());
      });
      docker.modem.followProgress(stream, (error: Error | null) => (error ? reject(error) : resolve()), onEvent);
    }, reject);
  });
}
