import type { RunContext } from '../../contract/contract';

/** Which payload runs and why: a mini from an image, or the one built into the shim (older
 *  shims never set payloadSource), and where this host stands in the mini repository's
 *  rollouts (shims before 0.2.0 never set release; docs/releasing.md). */
export function formatVersion(
  ctx: Pick<RunContext, 'shimVersion' | 'tiny' | 'mini' | 'payloadSource' | 'release'>,
  payloadVersion: string,
): string {
  const builtIn = ctx.payloadSource?.builtIn ? `built into shim ${ctx.shimVersion}` : undefined;
  const release = ctx.release;
  return [
    `run-docker shim ${ctx.shimVersion}`,
    builtIn && ctx.tiny.id === 'built-in' ? 'tiny none' : `tiny ${ctx.tiny.reference} (${ctx.tiny.version})`,
    builtIn
      ? `mini ${builtIn} (${ctx.payloadSource!.reason})`
      : `mini ${ctx.mini.reference} (${ctx.mini.version}, payload ${payloadVersion})`,
    ...(release ? [`release channel ${release.channel}, bucket ${release.bucket}: ${release.reason}`] : []),
    '',
  ].join('\n');
}
