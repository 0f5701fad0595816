/** Pure: any argv as a shell would read it back (run-docker's and build-docker's --dry-run). */
import { hasUnprintable, makePrintable } from './make-printable';

/**
 * Shell quoting: paste the result into a shell and it runs the same argv. POSIX single
 * quotes, except for arguments with control characters, which get bash/zsh/ksh `$'…'`
 * with escapes: printed raw they would act on the terminal instead of showing.
 */
export function formatShellCommand(argv: readonly string[]): string {
  return argv.map(quoteShellWord).join(' ');
}

function quoteShellWord(arg: string): string {
  if (/^[A-Za-z0-9_\-.,:/@%+=]+$/.test(arg)) return arg;
  if (!hasUnprintable(arg)) return `'${arg.replace(/'/g, `'\\''`)}'`;
  return `$'${makePrintable(arg.replace(/[\\']/g, (c) => `\\${c}`))}'`;
}
