#!/bin/sh
# The system's ssh with a test's own client configuration (tests/helpers/ssh-server.ts,
# useSshClient): OpenSSH reads ~/.ssh from the user database's home, not from HOME.
exec /usr/bin/ssh -F "$RUN_DOCKER_TEST_SSH_CONFIG" "$@"
