/**
 * The build payload: `build-docker`, delivered in the mini beside the run payload and
 * verified the same way (docs/contract.md). One way through the data:
 * argv → BuildOptions → ProjectFacts → BuildPlan → docker commands → digests.
 */
import type { BuildModule, RunContext } from '../../contract/contract';
import { compareTagOrder } from '../../common/compare-tag-order';
import { formatShellCommand } from '../../common/format-shell-command';
import { makePrintable } from '../../common/make-printable';
import { RunDockerError } from '../../common/run-docker-error';
import {
  buildBuildPlan,
  buildDevBuildArgs,
  buildProdBuildArgs,
  buildProdDockerfile,
  INSTALL_SCRIPT,
  platformReference,
  type BuildPaths,
  type BuildPlan,
  type ProjectFacts,
} from './build-plan';
import { formatBuildHelp } from './format-build-help';
import { formatSubmoduleWarning } from './format-submodule-warning';
import type { BuildOptions } from './parse-build-invocation';
import { parseBuildInvocation } from './parse-build-invocation';
import { readProjectFacts } from './read-project-facts';
import { runBuild } from './run-build';
import { checkRequiresMini } from '../project/project-table';
import { parseImageRef } from '../../common/image-ref';
import { readHomeDir } from '../../common/read-home-dir';
import { describeRegistryHost } from '../locator/registry/host/describe-registry-host';
import { selectCertsDirs } from '../locator/registry/host/read-registry-certs';
import { buildCli, tryDocker, useBuildCli } from './run-docker-command';
import type { EngineIdentity } from '../../contract/contract';
import { readEngineCliEnv } from '../../common/engine-cli-setting';
import { readEngineEndpoint } from '../../common/engine/read-engine-endpoint';
import { readContextDockerConfig } from '../../common/load-docker-config';
import { findEngineClis } from '../run/find-engine-clis';
import { selectEngineCli } from '../run/select-engine-cli';
import { readRegistryDigest } from '../locator/find-newest-tag';
import { noteNoFurtherLookup } from '../locator/predict-next-lookup';

declare const PAYLOAD_PACKAGE_VERSION: string;

type Env = Readonly<Record<string, string | undefined>>;

export async function main(ctx: RunContext): Promise<number> {
  const invocation = parseBuildInvocation(ctx.argv);
  if (invocation.kind === 'help') {
    process.stdout.write(formatBuildHelp(ctx.mini.version));
    return 0;
  }
  if (invocation.kind === 'version') {
    const mini = ctx.payloadSource?.builtIn
      ? `built into shim ${ctx.shimVersion} (${ctx.payloadSource.reason})`
      : `${ctx.mini.reference} (${ctx.mini.version}, payload ${PAYLOAD_PACKAGE_VERSION})`;
    process.stdout.write(`build-docker shim ${ctx.shimVersion}\nmini ${mini}\n`);
    return 0;
  }
  const { options } = invocation;
  // A build asks the registry nothing: the project's tags need not be asked early next time here.
  await noteNoFurtherLookup(ctx);
  const facts = await readProjectFacts(process.cwd(), ctx.env);
  checkRequiresMini(ctx, facts.requiresMini, `${facts.dir}/pyproject.toml`);
  if (facts.submodules.length > 0) ctx.log.warn(formatSubmoduleWarning(facts.submodules));
  const identity = await chooseBuildCli(ctx);
  const plan = await planNewerThanLocalTags(options, facts, ctx.env);
  if (identity.kind === 'podman' && plan.platforms.length > 1)
    throw new RunDockerError(
      `a build for several platforms (--platform ${plan.platforms.join(',')}) is not supported on Podman: its images are joined by "docker manifest", which speaks to Docker's registry client, not Podman's`,
      'Build each platform on its own (--platform linux/amd64, then --platform linux/arm64, each under its own tag), or build the index with Docker.',
    );
  if (options.dryRun) {
    process.stdout.write(formatDryRun(plan, facts, options));
    return 0;
  }
  const printed = await runBuild({
    plan,
    dir: facts.dir,
    revision: facts.revision,
    push: options.push,
    env: ctx.env,
    insecureRegistry: plan.platforms.length > 1 && (await isPlainHttpRegistry(ctx, plan.devRepository)),
    // Podman's RepoDigests after a push name its local manifest, not the one pushed.
    ...(identity.kind === 'podman'
      ? {
          registryDigest: (reference: string) =>
            readRegistryDigest(
              ctx,
              parseImageRef(reference, 'image') as ReturnType<typeof parseImageRef> & { tag: string },
            ),
        }
      : {}),
  });
  process.stdout.write(`${printed.join('\n')}\n`);
  return 0;
}

/**
 * The CLI every step runs with: the one the run payload would start containers with
 * (select-engine-cli.ts: the `cli` setting, else Podman's own on a Podman engine, a split
 * refused), so that the image is built in the engine that then runs it. Resolves to what
 * the engine is.
 */
async function chooseBuildCli(ctx: RunContext): Promise<EngineIdentity> {
  // Shims before identify() speak only to the engines they knew: Docker's.
  const identity: EngineIdentity = (await ctx.engine.identify?.()) ?? { kind: 'other', version: '' };
  const endpoint = ctx.endpoint ?? {
    host: ctx.docker?.engineHost ?? (await readEngineEndpoint(ctx.env, await readContextDockerConfig(ctx))).host,
    source: 'DOCKER_HOST or the docker context',
  };
  const choice = selectEngineCli({
    setting: ctx.cli ?? readEngineCliEnv(ctx.env),
    identity,
    endpoint,
    onPath: findEngineClis(ctx.env),
  });
  useBuildCli(choice);
  ctx.log.debug(`build steps run with ${choice.file} (${choice.cli})`);
  return identity;
}

/**
 * The plan, with a tag newer than every tag of both repositories on this host: run-docker
 * runs the newest, so a build must never land below or on top of an earlier one. A build in
 * the same second as the last waits for the next second; a clock behind the newest tag is
 * refused (a build nobody would ever run).
 */
async function planNewerThanLocalTags(options: BuildOptions, facts: ProjectFacts, env: Env): Promise<BuildPlan> {
  for (let attempt = 0; ; attempt++) {
    const plan = buildBuildPlan(options, facts, new Date());
    const newest = await newestLocalTag([plan.devRepository, plan.prodRepository], env);
    const order = newest === undefined ? 1 : (compareTagOrder(plan.tag, newest.tag) ?? 1);
    if (order > 0) return plan;
    if (order < 0 || attempt >= 2) {
      throw new RunDockerError(
        `"${newest!.reference}" on this host is newer than now (${plan.tag} UTC), so run-docker would never run this build`,
        "Check this host's clock, or remove that image if its tag is wrong.",
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 5));
  }
}

async function newestLocalTag(
  repositories: string[],
  env: Env,
): Promise<{ tag: string; reference: string } | undefined> {
  let newest: { tag: string; reference: string } | undefined;
  for (const repository of repositories) {
    const listed = (await tryDocker(['image', 'ls', '--format', '{{.Tag}}', repository], env)) ?? '';
    for (const tag of listed.split('\n').map((line) => line.trim())) {
      if (tag === '' || tag === '<none>') continue;
      if (newest === undefined || (compareTagOrder(tag, newest.tag) ?? -1) > 0)
        newest = { tag, reference: `${repository}:${tag}` };
    }
  }
  return newest;
}

/**
 * Whether the registry of `repository` is one the engine treats as insecure and run-docker
 * asks in plain HTTP (loopback, or per the engine's /info: engine-and-credentials.md): the
 * docker CLI's `docker manifest` must then be told `--insecure`, as it does not ask the engine.
 */
async function isPlainHttpRegistry(ctx: RunContext, repository: string): Promise<boolean> {
  const { registry } = parseImageRef(repository, 'repository');
  const host = await describeRegistryHost(registry, {
    engine: ctx.engine,
    engineHost: ctx.docker?.engineHost,
    cacheDir: ctx.cacheDir,
    log: ctx.log,
    certsDirs: selectCertsDirs(ctx.env, readHomeDir(ctx.env)),
  });
  return host.mode !== 'verified';
}

/** How the dry run names the CLI: `docker`, `podman --remote --url unix:///…`. */
function cliWords(): string[] {
  const { cli, globalArgs } = buildCli();
  return [cli, ...globalArgs];
}

/** Where the dry run says the build would happen: a fresh temporary folder, called WORK here. */
const DRY_RUN_PATHS: BuildPaths = { context: 'WORK/context', prodDockerfile: 'WORK/prod.Dockerfile' };

function formatDryRun(plan: BuildPlan, facts: ProjectFacts, options: BuildOptions): string {
  if (plan.platforms.length > 1) return formatIndexDryRun(plan, facts);
  const commands = [
    makePrintable(
      `# WORK: a fresh temporary folder; WORK/context: git archive ${facts.revision} of "${facts.dir}", unpacked`,
    ),
    formatShellCommand([...cliWords(), ...buildDevBuildArgs(plan, DRY_RUN_PATHS)]),
    "# WORK/prod.Dockerfile (the dev image's USER, read after its build, is restored at the end):",
    ...buildProdDockerfile(plan, '')
      .replace(
        JSON.stringify(INSTALL_SCRIPT),
        '"<install script: pip install --no-deps, or without pip the packages in src/ copied into site-packages>"',
      )
      .trimEnd()
      .split('\n')
      .map((line) => `#   ${line}`),
    formatShellCommand([...cliWords(), ...buildProdBuildArgs(plan, DRY_RUN_PATHS)]),
    ...(options.push
      ? [formatShellCommand([...cliWords(), 'push', plan.dev]), formatShellCommand([...cliWords(), 'push', plan.prod])]
      : []),
  ];
  return `${commands.join('\n')}\n`;
}

/** The dry run of a build for several platforms (run-build.ts, buildIndexes). */
function formatIndexDryRun(plan: BuildPlan, facts: ProjectFacts): string {
  const perPlatform = plan.platforms.flatMap((platform) => [
    formatShellCommand([...cliWords(), ...buildDevBuildArgs(plan, DRY_RUN_PATHS, platform)]),
    `# WORK/prod-${platform.replace(/\//g, '-')}.Dockerfile: as for one platform, FROM ${platformReference(plan.dev, platform)}`,
    formatShellCommand([
      'docker',
      ...buildProdBuildArgs(
        plan,
        { ...DRY_RUN_PATHS, prodDockerfile: `WORK/prod-${platform.replace(/\//g, '-')}.Dockerfile` },
        platform,
      ),
    ]),
  ]);
  const pushes = plan.platforms.flatMap((platform) => [
    formatShellCommand([...cliWords(), 'push', platformReference(plan.dev, platform)]),
    formatShellCommand([...cliWords(), 'push', platformReference(plan.prod, platform)]),
  ]);
  const indexes = [plan.dev, plan.prod].flatMap((reference) => [
    formatShellCommand([
      'docker',
      'manifest',
      'create',
      reference,
      ...plan.platforms.map((platform) => platformReference(reference, platform)),
    ]),
    formatShellCommand([...cliWords(), 'manifest', 'push', '--purge', reference]),
  ]);
  const head = makePrintable(
    `# WORK: a fresh temporary folder; WORK/context: git archive ${facts.revision} of "${facts.dir}", unpacked`,
  );
  return `${[head, ...perPlatform, ...pushes, ...indexes].join('\n')}\n`;
}

// The entry must keep the contract's shape.
({ main }) satisfies BuildModule;
