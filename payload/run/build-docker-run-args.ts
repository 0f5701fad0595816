/** Pure: the `docker run` argument array for an image and a command. */
export function buildDockerRunArgs(
  image: string,
  command: readonly string[],
  terminal: { stdin: boolean; stdout: boolean },
): string[] {
  // -i keeps a piped stdin flowing into the container; -t only when both ends are a terminal.
  const interactive = terminal.stdin && terminal.stdout ? ['-i', '-t'] : ['-i'];
  return ['run', '--rm', '--init', ...interactive, image, ...command];
}
