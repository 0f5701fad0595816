// The containers a test file's shims made, told apart from everyone else's: other test files,
// a benchmark or another user may share the engine (and build identical fixture images, so an
// image ID does not tell whose a container is), so a test never counts every container.
import { hostname } from 'node:os';
import { docker } from './fixtures';
import { hostHomesOfThisFile, shimPidsOfThisFile } from './shim';

const EXTRACTION_LABEL = 'org.run-docker.extraction';
const FORMAT = `{{.ID}} {{.Image}} {{.Names}} {{.Label "${EXTRACTION_LABEL}"}}`;

/**
 * Containers (any state) that map the data folder of a host this file made with makeHost (every
 * run does), or that a shim this file started made to copy files out of an image (labelled with
 * its host and pid). Each as "ID IMAGE NAME EXTRACTION-LABEL", so that a failure shows what was left.
 */
export async function listOwnContainers(): Promise<string[]> {
  const found = new Set<string>();
  const list = async (filters: string[]) =>
    (
      await docker(['ps', '--all', '--format', FORMAT, ...filters.flatMap((filter) => ['--filter', filter])], {
        check: true,
      })
    ).stdout
      .split('\n')
      .filter((line) => line.trim() !== '');
  const homes = hostHomesOfThisFile();
  // Filters of one key are alternatives: one listing for all the hosts.
  if (homes.length > 0) for (const line of await list(homes.map((home) => `volume=${home}/work/data`))) found.add(line);
  const ours = new Set(shimPidsOfThisFile().map((pid) => `${hostname()}:${pid}`));
  for (const line of await list([`label=${EXTRACTION_LABEL}`])) {
    if (ours.has(line.split(' ').at(-1) ?? '')) found.add(line);
  }
  return [...found].sort();
}

/** Registers hooks: every test of the file ends with the same own containers it began with. */
export function expectEachTestToLeaveNoContainers(): void {
  let before: string[] = [];
  beforeEach(async () => {
    before = await listOwnContainers();
  });
  afterEach(async () => {
    expect(await listOwnContainers()).toEqual(before);
  });
}
