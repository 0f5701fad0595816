#!/bin/sh
# Usage (as root): unshare --mount --propagation private -- sh with-root-home.sh ROOT_HOME FOLDER CMD [ARG...]
#
# Runs CMD with FOLDER mounted over ROOT_HOME, root's home in the user database, in the
# mount namespace unshare made for it alone: a test sees what run-docker keeps in root's own
# home (tests/helpers/root-home.ts), and the machine's real one is never touched.
set -eu
root_home=$1
folder=$2
shift 2
mount --bind "$folder" "$root_home"
exec "$@"
