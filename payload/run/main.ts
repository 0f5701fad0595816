/**
 * The mini payload: the real `run-docker`. For now it offers --version, --help and a
 * plain run of the newest (or the pinned) tag of an image.
 */
import type { MiniModule, RunContext } from '../../contract/contract';
import { formatImageRef, formatRepository, isPinned, parseImageRef } from '../../common/image-ref';
import { inspectImage } from '../../common/inspect-image';
import { pullImage } from '../../common/pull-image';
import { RunDockerError } from '../../common/run-docker-error';
import { findNewestTag } from '../common/find-newest-tag';
import { buildDockerRunArgs } from './build-docker-run-args';
import { parseRunArgs } from './parse-run-args';
import { runDockerCli } from './run-docker-cli';

declare const PAYLOAD_PACKAGE_VERSION: string;

export async function main(ctx: RunContext): Promise<number> {
  const invocation = parseRunArgs(ctx.argv);
  switch (invocation.kind) {
    case 'version':
      process.stdout.write(formatVersion(ctx));
      return 0;
    case 'help':
      process.stdout.write(formatHelp(ctx));
      return 0;
    case 'run': {
      const image = await resolveImage(ctx, invocation.image);
      const terminal = { stdin: Boolean(process.stdin.isTTY), stdout: Boolean(process.stdout.isTTY) };
      return runDockerCli(buildDockerRunArgs(image, invocation.command, terminal), ctx.env);
    }
  }
}

/** The exact image to run: a pinned tag or digest as given, otherwise the newest tag. */
async function resolveImage(ctx: RunContext, text: string): Promise<string> {
  const ref = parseImageRef(text, 'image');
  if (!isPinned(ref)) {
    const newest = await findNewestTag(ctx, formatRepository(ref));
    const pinned = { ...ref, tag: newest.tag };
    if (!newest.presentLocally) await pullImage(ctx.docker, pinned);
    return formatImageRef(pinned);
  }
  if (!(await inspectImage(ctx.docker, ref))) {
    if (ctx.local) {
      throw new RunDockerError(
        `the image "${formatImageRef(ref)}" is not on this host, and --local forbids pulling it`,
        'Run without --local to pull it, or build or load it first.',
      );
    }
    await pullImage(ctx.docker, ref);
  }
  return formatImageRef(ref);
}

export function formatVersion(ctx: Pick<RunContext, 'shimVersion' | 'tiny' | 'mini'>): string {
  return [
    `run-docker shim ${ctx.shimVersion}`,
    `tiny ${ctx.tiny.reference} (${ctx.tiny.version})`,
    `mini ${ctx.mini.reference} (${ctx.mini.version}, payload ${PAYLOAD_PACKAGE_VERSION})`,
    '',
  ].join('\n');
}

function formatHelp(ctx: Pick<RunContext, 'mini'>): string {
  return `Usage: run-docker [--local] IMAGE[:TAG|@DIGEST] [COMMAND [ARG...]]

Runs the newest tag of IMAGE (local images and its registry), or exactly the tag or
digest given, with --rm --init; COMMAND and its arguments are passed on untouched.

Options:
  --local      use only images on this host; no network
  --version    print the shim, tiny and mini versions in use
  -h, --help   print this help

Examples:
  run-docker 127.0.0.1:5000/team/app              newest tag, default command
  run-docker 127.0.0.1:5000/team/app:20261101-120000 sh -c 'echo "a  b"'
  run-docker --local team/app python -m app

This behaviour comes from mini ${ctx.mini.version}.
`;
}

// The entry must keep the contract's shape.
({ main }) satisfies MiniModule;
