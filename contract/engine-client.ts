/**
 * The Docker Engine as the shim hands it to every payload (BaseContext.engine): exactly the
 * operations run-docker uses, and nothing else. Part of the contract (docs/contract.md):
 * types only, and a change that an older shim or payload would misread needs a new
 * contract version. The shim implements it in common/engine/ (light-engine-client.ts over
 * node:http, pulls and ssh engines included); tests/helpers/fake-engine.ts in memory.
 *
 * Failures keep the shapes common/engine-error.ts explains: `statusCode` (and `json`) for an
 * answer of the engine outside 2xx, Node's `code` and `syscall` for a connection that failed,
 * `code: 'ERR_RUN_DOCKER_ENGINE_TIMEOUT'` (with `timeoutMs` and `call`) for an engine that
 * stopped answering.
 * Engine API: https://docs.docker.com/reference/api/engine/version/v1.41/
 */

/** What run-docker reads of an image (GET /images/{name}/json). */
export interface ImageDetails {
  /** `sha256:…` */
  id: string;
  labels: Record<string, string>;
  /** Bytes, as the engine reports them. */
  size: number;
  /**
   * The engine's own record of the digests the image was pulled or pushed by (`RepoDigests`,
   * `repository@sha256:…`). Optional: added within contract version 2, absent from the
   * clients of older shims. The shim trusts a tiny pinned by digest only when it is listed here.
   * A payload also shows it (`REPO:TAG@sha256:…`) and checks date-time tags against it
   * (docs/project-file.md, "Digests in sight").
   */
  repoDigests?: string[];
}

/** A container with the label asked for (GET /containers/json). */
export interface ContainerSummary {
  id: string;
  labels: Record<string, string>;
}

/** A container that is created and never started, only to copy files out of its image. */
export interface ContainerSpec {
  /** Image ID or reference. */
  image: string;
  /** Never run; an image without CMD cannot be created without one. */
  command: string[];
  labels: Record<string, string>;
}

/** One JSON event of the engine's pull stream (POST /images/create). */
export interface PullEvent {
  status?: string;
  /** Layer ID (short), or the tag/digest for summary lines. */
  id?: string;
  progress?: string;
  /** Bytes so far and in all; `total` is absent or 0 when unknown (the containerd store's "Extracting"). */
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { message?: string };
}

/** Credentials for one registry, as the Engine API's X-Registry-Auth header carries them
 *  (https://docs.docker.com/reference/api/engine/version/v1.41/#section/Authentication). */
export interface RegistryAuth {
  username?: string;
  password?: string;
  /** An identity token from `docker login` (OAuth2 refresh token) replaces username and password. */
  identitytoken?: string;
  serveraddress: string;
}

export interface EnginePullOptions {
  auth?: RegistryAuth;
  /** Aborting it cancels the pull: the request is destroyed, and dockerd cancels a pull whose client has gone. */
  signal?: AbortSignal;
  /** Every event, in order, errors included: the caller decides what an event means. */
  onEvent: (event: PullEvent) => void;
}

/**
 * What answers at the endpoint: the `Server` header of the Engine API's answers says
 * `Docker/20.10.24+dfsg1 (linux)` for dockerd and `Libpod/4.3.1 (linux)` for Podman's
 * Docker-compatible service (which also sends `Libpod-Api-Version`).
 */
export interface EngineIdentity {
  /** `other`: neither says who it is (a proxy that drops the header, an engine of its own kind). */
  kind: 'docker' | 'podman' | 'other';
  /** The engine's version as it gives it (`20.10.24+dfsg1`, `4.3.1`); empty when it does not say. */
  version: string;
}

export interface EngineClient {
  /**
   * The tags of `repository` (exactly that name, as formatRepository writes it:
   * `127.0.0.1:5000/team/app`, `team/app`, `python`) among the images on the host, in no
   * particular order and without duplicates (GET /images/json).
   */
  listImageTags(repository: string): Promise<string[]>;
  /** GET /images/{name}/json; undefined when the engine has no such image (404). */
  inspectImage(name: string): Promise<ImageDetails | undefined>;
  /** GET /images/{name}/get: the image as `docker save` writes it, a tar stream. */
  exportImage(name: string): Promise<NodeJS.ReadableStream>;
  /** POST /containers/create, with no network; the new container's ID. Never started. */
  createContainer(spec: ContainerSpec): Promise<string>;
  /** GET /containers/{id}/archive?path=…: a tar stream of `path` (statusCode 404 when it is missing). */
  copyFromContainer(id: string, path: string): Promise<NodeJS.ReadableStream>;
  /** DELETE /containers/{id}?force=true */
  removeContainer(id: string): Promise<void>;
  /** GET /containers/json?all=true: every container, running or not, that has the label `label`. */
  listContainers(label: string): Promise<ContainerSummary[]>;
  /** GET /info, as the engine answers it (the locator reads its RegistryConfig). */
  readInfo(): Promise<unknown>;
  /**
   * POST /images/create for `repository` at `tag` (a tag or a digest). Resolves when the
   * engine's stream ends, which it does also after an error event inside an HTTP 200
   * answer: the caller must check every event. Rejects when the engine refuses the request,
   * when the stream breaks, and when `signal` aborts.
   */
  pullImage(repository: string, tag: string, options: EnginePullOptions): Promise<void>;
  /**
   * Optional (added within contract version 2 with Podman support; older shims lack it, and
   * a payload then takes the engine for Docker): what the engine is, read from the headers of
   * an answer the client has already had (the image list it asks for at once), so it costs
   * no request of its own; GET /_ping only when no answer came yet.
   */
  identify?(): Promise<EngineIdentity>;
  /**
   * Optional, likewise: Podman's own GET /v4.0.0/libpod/info, as it answers it. Its
   * Docker-compatible /info does not say whether Podman runs rootless, nor how its user
   * namespace maps ids (`host.security.rootless`, `host.idMappings`). Slow (~0.6 s here).
   */
  readPodmanInfo?(): Promise<unknown>;
  /**
   * Optional (added within contract version 2; older shims lack it, and a payload then cannot
   * ask whether the engine sees this host's files): POST /containers/create for `image` with
   * each of `sources` bind-mounted read-only, asked as a question, not to make a container.
   * dockerd checks every bind source on its own host before it looks for the image (moby
   * daemon/create.go: verifyContainerSettings, then GetImage) and names the first that is not
   * there ("bind source path does not exist: PATH"). Resolves with the engine's status and
   * message; a container created after all (201) is removed before it resolves. Rejects only
   * when the engine cannot be asked (connection, time limit).
   */
  checkBindSources?(image: string, sources: readonly string[]): Promise<BindSourcesAnswer>;
}

/** What the engine answered to EngineClient.checkBindSources. */
export interface BindSourcesAnswer {
  statusCode: number;
  /** The engine's `message` (empty for a 2xx answer). */
  message: string;
}
