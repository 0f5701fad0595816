import { formatLoginCommand } from '../../../../common/format-login-command';
import { RunDockerError } from '../../../../common/run-docker-error';

// Errors of the auth handshake. Messages name the registry and repository, never a credential.

export function authenticationRequired(registry: string, repositoryName: string): RunDockerError {
  return new RunDockerError(
    `authentication required for "${repositoryName}"`,
    `Log in with ${formatLoginCommand(registry)}, whose credentials run-docker reads, or check the repository name.`,
  );
}

export function credentialsRefused(registry: string, repositoryName: string): RunDockerError {
  return new RunDockerError(
    `the registry "${registry}" refused the stored credentials for "${repositoryName}"`,
    `Log in again with ${formatLoginCommand(registry)} and check that the account may pull "${repositoryName}".`,
  );
}

/** A challenge run-docker cannot answer: another scheme, or a Bearer challenge without a realm. */
export function unsupportedChallenge(registry: string, repositoryName: string): RunDockerError {
  return new RunDockerError(
    `the registry "${registry}" asked for an authentication method run-docker does not support for "${repositoryName}"`,
    'run-docker supports Bearer token and Basic authentication; check the registry address.',
  );
}
