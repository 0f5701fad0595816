import { RunDockerError } from './run-docker-error';

/** `env[name]` as a positive whole number; undefined when unset or empty; one clear line when malformed. */
export function readPositiveInteger(
  env: Readonly<Record<string, string | undefined>>,
  name: string,
): number | undefined {
  const text = env[name];
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < 1) {
    throw new RunDockerError(
      `"${name}" must be a positive whole number, not "${text.slice(0, 40)}"`,
      `Fix or unset ${name}.`,
    );
  }
  return value;
}
