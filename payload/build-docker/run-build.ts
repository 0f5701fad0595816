/**
 * Carries out a BuildPlan: unpacks the committed tree, builds the dev image, then the prod
 * image from it, pushes both when asked, and resolves to what it prints last (digests, or
 * the references without --push). Any failure, and a Ctrl-C, removes the tags this build
 * made, so no half-built image is ever left tagged (run-docker would pick it up as newest).
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from '../../common/fs-async';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanUpOnInterrupt, interruptedBy, waitForExit } from '../../common/interruption';
import { RunDockerError } from '../../common/run-docker-error';
import {
  buildDevBuildArgs,
  buildProdBuildArgs,
  buildProdDockerfile,
  DEPENDENCIES_DOCKERFILE,
  LABELS,
  platformReference,
  type BuildPaths,
  type BuildPlan,
} from './build-plan';
import { buildCli, runDockerCaptured, runDockerWithProgress, stopCurrentStep, tryDocker } from './run-docker-command';

type Env = Readonly<Record<string, string | undefined>>;

export interface BuildTarget {
  plan: BuildPlan;
  /** The repository's top folder and the commit to build. */
  dir: string;
  revision: string;
  push: boolean;
  env: Env;
  /** The registry is spoken to in plain HTTP (the engine treats it as insecure): `docker manifest --insecure`. */
  insecureRegistry?: boolean;
  /**
   * The digest a pushed image has in the registry, asked of the registry (`sha256:…`): for an
   * engine whose own record is not it (Podman). Absent: the engine's RepoDigests.
   */
  registryDigest?: (reference: string) => Promise<string | undefined>;
}

export async function runBuild(target: BuildTarget): Promise<string[]> {
  const { plan, env } = target;
  const work = await mkdtemp(join(tmpdir(), 'build-docker-'));
  const paths: BuildPaths = { context: join(work, 'context'), prodDockerfile: join(work, 'prod.Dockerfile') };
  const tagged: string[] = [];
  const undo = async () => {
    await stopCurrentStep();
    const untagged = tagged.splice(0);
    for (const reference of untagged) await tryDocker(['image', 'rm', reference], env);
    // A prod build that failed after some of its steps leaves their intermediate images, children
    // of the dev image, so removing the dev tag only untags it. They all carry this build's unique
    // version label (inherited from the dev image): pruning the dangling ones removes the chain.
    if (untagged.length > 0)
      await tryDocker(['image', 'prune', '--force', '--filter', `label=${LABELS.version}=${plan.tag}`], env);
    await rm(work, { recursive: true, force: true });
  };
  const release = cleanUpOnInterrupt(undo);
  try {
    await exportCommit(target.dir, target.revision, paths.context, env);
    if (plan.platforms.length > 1) {
      const digests = await buildIndexes(target, paths, work, tagged);
      await undo();
      return digests;
    }
    await step(
      buildDevBuildArgs(plan, paths),
      env,
      `the build of the dev image "${plan.dev}" (${DEPENDENCIES_DOCKERFILE}) failed`,
    );
    tagged.push(plan.dev);
    const devUser = JSON.parse(
      await runDockerCaptured(['image', 'inspect', '--format', '{{json .Config.User}}', plan.dev], env),
    ) as string;
    await writeFile(paths.prodDockerfile, buildProdDockerfile(plan, devUser));
    await step(
      buildProdBuildArgs(plan, paths),
      env,
      `the build of the prod image "${plan.prod}" (the package installed from commit ${target.revision.slice(0, 12)}) failed`,
    );
    tagged.push(plan.prod);
    if (!target.push) {
      tagged.length = 0;
      return [plan.dev, plan.prod];
    }
    await step(['push', plan.dev], env, `the push of "${plan.dev}" failed`);
    await step(['push', plan.prod], env, `the push of "${plan.prod}" failed, after "${plan.dev}" was pushed`);
    const digests = [
      await readDigest(plan.dev, plan.devRepository, target),
      await readDigest(plan.prod, plan.prodRepository, target),
    ];
    tagged.length = 0;
    return digests;
  } catch (error) {
    if (interruptedBy()) return waitForExit();
    await undo();
    throw error;
  } finally {
    release();
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * A build for several platforms (docs/decisions/multi-platform-build.md): per platform the dev
 * image (`--platform P --pull`) and the prod image from it, each under its platform's tag
 * (build-plan.ts, platformReference), all pushed; then one index per image under the build's
 * tag, made and pushed by the docker CLI (`docker manifest create`, `docker manifest push
 * --purge`), whose digest is printed. The tag appears in the registry only once its index is
 * complete: a build cut short leaves the platform tags, never a tag that runs on one platform only.
 */
async function buildIndexes(target: BuildTarget, paths: BuildPaths, work: string, tagged: string[]): Promise<string[]> {
  const { plan, env } = target;
  for (const platform of plan.platforms) {
    const dev = platformReference(plan.dev, platform);
    const prod = platformReference(plan.prod, platform);
    await step(
      buildDevBuildArgs(plan, paths, platform),
      env,
      `the build of the dev image "${dev}" for ${platform} (${DEPENDENCIES_DOCKERFILE}) failed`,
    );
    tagged.push(dev);
    const devUser = JSON.parse(
      await runDockerCaptured(['image', 'inspect', '--format', '{{json .Config.User}}', dev], env),
    ) as string;
    const dockerfile = join(work, `prod-${platform.replace(/\//g, '-')}.Dockerfile`);
    await writeFile(dockerfile, buildProdDockerfile(plan, devUser, dev));
    await step(
      buildProdBuildArgs(plan, { ...paths, prodDockerfile: dockerfile }, platform),
      env,
      `the build of the prod image "${prod}" for ${platform} (the package installed from commit ${target.revision.slice(0, 12)}) failed`,
    );
    tagged.push(prod);
  }
  for (const reference of [...tagged]) await step(['push', reference], env, `the push of "${reference}" failed`);
  const insecure = target.insecureRegistry ? ['--insecure'] : [];
  const digests: string[] = [];
  for (const [reference, repository] of [
    [plan.dev, plan.devRepository],
    [plan.prod, plan.prodRepository],
  ] as const) {
    const parts = plan.platforms.map((platform) => platformReference(reference, platform));
    await step(['manifest', 'create', ...insecure, reference, ...parts], env, `the index of "${reference}" failed`);
    const pushed = await runDockerCaptured(['manifest', 'push', ...insecure, '--purge', reference], env);
    const digest = /sha256:[0-9a-f]{64}/.exec(pushed)?.[0];
    if (digest === undefined)
      throw new RunDockerError(
        `the index of "${reference}" was pushed, but docker printed no digest for it ("${pushed.trim().slice(0, 80)}")`,
        `Look it up with "docker manifest inspect ${reference}".`,
      );
    digests.push(`${repository}@${digest}`);
  }
  return digests;
}

/** One docker step with progress; a non-zero exit is one error line that says nothing is left tagged. */
async function step(args: string[], env: Env, failure: string): Promise<void> {
  if (interruptedBy()) return waitForExit();
  const code = await runDockerWithProgress(args, env);
  if (interruptedBy()) return waitForExit();
  if (code !== 0) {
    const { cli } = buildCli();
    const hint =
      args[0] === 'push'
        ? `Check the registry and "${cli} login"${cli === 'podman' ? ' (a registry in plain HTTP must be insecure = true in registries.conf)' : ''}; the images of this build were untagged here, and a new build reuses the build cache.`
        : `${cli === 'docker' ? 'Docker' : 'Podman'}'s output above says why; nothing of this build is left tagged.`;
    throw new RunDockerError(`${failure} (${cli} ${args[0]} exit ${code})`, hint);
  }
}

/** `git archive` of the commit, unpacked by tar into `context`: never a file that is not committed. */
async function exportCommit(dir: string, revision: string, context: string, env: Env): Promise<void> {
  await mkdir(context);
  const archive = spawn('git', ['archive', '--format=tar', revision], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  const unpack = spawn('tar', ['-x', '-f', '-', '-C', context], { stdio: ['pipe', 'ignore', 'pipe'], env });
  archive.stdout.pipe(unpack.stdin);
  const exited = (child: ReturnType<typeof spawn>, name: string) =>
    new Promise<string>((resolve, reject) => {
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      child.on('error', (error: NodeJS.ErrnoException) =>
        reject(
          error.code === 'ENOENT'
            ? new RunDockerError(`the "${name}" command is not installed or not on PATH`, `Install ${name}.`)
            : error,
        ),
      );
      child.on('close', (code) =>
        code === 0 ? resolve('') : resolve(stderr.trim().split('\n').pop() || `exit ${code}`),
      );
    });
  const [archived, unpacked] = await Promise.all([exited(archive, 'git'), exited(unpack, 'tar')]);
  const problem = archived || unpacked;
  if (problem)
    throw new RunDockerError(
      `cannot export commit ${revision.slice(0, 12)} of "${dir}" (${problem})`,
      'Check the repository ("git archive HEAD | tar -t") and the space in the temporary folder.',
    );
}

/** `repository@sha256:…` of a pushed image, as the engine recorded it (or, for Podman, as the registry holds it). */
async function readDigest(reference: string, repository: string, target: BuildTarget): Promise<string> {
  let digest: string | undefined;
  if (target.registryDigest) {
    const found = await target.registryDigest(reference);
    digest = found && `${repository}@${found}`;
  } else {
    const digests = JSON.parse(
      await runDockerCaptured(['image', 'inspect', '--format', '{{json .RepoDigests}}', reference], target.env),
    ) as string[] | null;
    digest = (digests ?? []).find((candidate) => candidate.startsWith(`${repository}@`));
  }
  if (!digest)
    throw new RunDockerError(
      `"${reference}" was pushed, but the engine reports no digest for it`,
      'Run "docker image inspect" on it, and push again if needed.',
    );
  return digest;
}
