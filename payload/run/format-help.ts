import { formatOptionsHelp } from './docker-run-options';

export function formatHelp(miniVersion: string): string {
  return `Usage: run-docker [--local] [OPTIONS] IMAGE[:TAG|@DIGEST] [COMMAND [ARG...]]

Runs the newest tag of IMAGE (local images and its registry), or exactly the tag or
digest given. With ~/work/src/<name> on this host it is a dev run: that folder is
mapped to ~/src in the container and on PYTHONPATH. ~/work/data and ~/work/log are
mapped in both modes. The container runs as docker-user (files it writes belong to
you) unless --root. COMMAND and its arguments are passed on untouched.

run-docker options:
${formatOptionsHelp()}

Any other docker run option (-e, -v, -p, -w, --network, --gpus, ...) is passed on.

Examples:
  run-docker team/app                                a shell or the default command, newest version
  run-docker team/app py.test tests                  tests against the live source in ~/work/src/app
  run-docker team/app notebook                       Jupyter on http://127.0.0.1:8888 (token printed)
  run-docker team/app-main python -m app             a prod image: no source mapped
  run-docker team/app:20261101-120000 python -m app  roll back: exactly that version
  run-docker --local team/app                        offline: only images on this host
  run-docker --dry-run -e DEBUG=1 team/app bash      print the docker command instead

This behaviour comes from mini ${miniVersion}.
`;
}
