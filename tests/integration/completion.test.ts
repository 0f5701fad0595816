/**
 * The completion scripts of `run-docker --completion bash|zsh` in the real shells, with
 * a real image on the engine: bash through its completion variables (COMP_WORDS split as
 * readline splits them), zsh through its completion system on a pseudo-terminal.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCompletionScript } from '../../payload/run/build-completion-script';
import { buildBusyboxImage, removeImages, runCommand } from '../helpers/fixtures';

const REPOSITORY = `run-docker-test/completion-${process.pid}`;
const IMAGE = `${REPOSITORY}:20261101-120000`;
const ZSH_HARNESS = join(__dirname, '..', 'helpers', 'complete-zsh.zsh');

let dir: string;
let bashScript: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'run-docker-completion-'));
  bashScript = join(dir, 'run-docker.bash');
  await writeFile(bashScript, buildCompletionScript('bash', 'TEST'));
  await writeFile(join(dir, '_run-docker'), buildCompletionScript('zsh', 'TEST'));
  await buildBusyboxImage(IMAGE);
});

afterAll(async () => {
  await removeImages([IMAGE]);
  await rm(dir, { recursive: true, force: true });
});

/** COMP_WORDS as bash fills them: blanks separate words, and ":" and "=" (in COMP_WORDBREAKS) are words of their own. */
function compWords(line: string): string[] {
  const words = line.split(/ +/).flatMap((word) => word.split(/([:=]+)/).filter((part) => part !== ''));
  return line.endsWith(' ') ? [...words.filter((word) => word !== ''), ''] : words;
}

/** What bash offers for LINE<TAB> (the cursor at the end): COMPREPLY after calling _run_docker. */
async function completeBash(line: string): Promise<string[]> {
  const words = compWords(line);
  const driver = 'source "$1"; COMP_LINE=$2; COMP_POINT=${#2}; COMP_CWORD=$3; shift 3; COMP_WORDS=("$@"); _run_docker; printf "%s\\n" "${COMPREPLY[@]}"';
  const result = await runCommand('bash', ['--norc', '-c', driver, 'bash', bashScript, line, String(words.length - 1), ...words]);
  if (result.code !== 0 || result.stderr !== '') throw new Error(`bash: exit ${result.code}\n${result.stderr}`);
  return result.stdout.split('\n').filter((word) => word !== '');
}

/** What zsh's completion system offers for LINE<TAB>, through the script installed in fpath. */
async function completeZsh(line: string): Promise<string[]> {
  const result = await runCommand('zsh', ['-f', ZSH_HARNESS, dir, line], { timeoutMs: 30_000, cwd: dir });
  if (result.code !== 0) throw new Error(`zsh: exit ${result.code}\n${result.stdout}${result.stderr}`);
  return [...new Set(result.stdout.split('\n').filter((word) => word !== ''))];
}

describe('bash', () => {
  test('the script is valid bash', async () => {
    expect(await runCommand('bash', ['-n', bashScript])).toMatchObject({ code: 0, stderr: '' });
  });

  test('--host<TAB> offers run-docker\'s and docker run\'s options of that prefix', async () => {
    expect((await completeBash('run-docker --host')).sort()).toEqual(['--hostdatadir', '--hostlogdir', '--hostname', '--hostsrcdir']);
    expect(await completeBash('run-docker -it -e A=1 --dry')).toEqual(['--dry-run']);
  });

  test('at IMAGE it offers the local images, by repository and by repository:tag', async () => {
    const offered = await completeBash(`run-docker --local -e A=1 ${REPOSITORY.slice(0, -2)}`);
    expect(offered).toEqual(expect.arrayContaining([REPOSITORY, IMAGE]));
    expect(offered.every((image) => image.startsWith(REPOSITORY.slice(0, -2)))).toBe(true);
    // After "repo:", readline replaces only what follows the colon.
    expect(await completeBash(`run-docker ${REPOSITORY}:2026`)).toEqual(['20261101-120000']);
  });

  test('the value of a value-taking option is not completed as an option or an image', async () => {
    expect(await completeBash('run-docker -e --host')).toEqual([]);
    expect(await completeBash(`run-docker --name ${REPOSITORY.slice(0, -2)}`)).toEqual([]);
    expect(await completeBash('run-docker -m 8g --restart unl')).toEqual(['unless-stopped']);
    expect(await completeBash('run-docker --completion=z')).toEqual(['zsh']);
  });

  test('after IMAGE nothing of ours: the words belong to the container\'s command', async () => {
    expect(await completeBash(`run-docker ${IMAGE} --host`)).toEqual([]);
    expect(await completeBash(`run-docker -- ${REPOSITORY.slice(0, -2)}`)).toEqual(expect.arrayContaining([IMAGE]));
  });
});

describe('zsh', () => {
  test('the script is valid zsh', async () => {
    expect(await runCommand('zsh', ['-n', join(dir, '_run-docker')])).toMatchObject({ code: 0, stderr: '' });
  });

  test('--host<TAB> offers the options of that prefix', async () => {
    expect(await completeZsh('run-docker --host')).toEqual(expect.arrayContaining(['--hostdatadir', '--hostlogdir', '--hostname', '--hostsrcdir']));
    expect(await completeZsh('run-docker --host')).not.toContain('--help');
  });

  test('at IMAGE it offers the local images; a value is not an option; after IMAGE no options', async () => {
    expect(await completeZsh(`run-docker -it -e A=1 ${REPOSITORY.slice(0, -2)}`)).toEqual(expect.arrayContaining([REPOSITORY, IMAGE]));
    expect(await completeZsh('run-docker --completion ')).toEqual(['bash', 'zsh']);
    expect(await completeZsh('run-docker -e --host')).not.toContain('--hostdatadir');
    expect(await completeZsh(`run-docker ${IMAGE} --host`)).not.toContain('--hostdatadir');
  });
});
