/**
 * The completion scripts of `run-docker --completion bash|zsh`, asked of the real command
 * (shim + published mini), in the real shells, with a real image on the engine: bash
 * through its completion variables (COMP_WORDS split as readline splits them), zsh through
 * its completion system on a pseudo-terminal. Also --help, which shares the option table.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBusyboxImage, removeImages, runCommand } from '../helpers/fixtures';
import { startRegistry, type TestRegistry } from '../helpers/registry';
import { explain, makeHost, publish, removeHosts, runShim } from '../helpers/shim';

const REPOSITORY = `run-docker-test/completion-${process.pid}`;
const IMAGE = `${REPOSITORY}:20261101-120000`;
const ZSH_HARNESS = join(__dirname, '..', 'helpers', 'complete-zsh.zsh');

let dir: string;
let bashScript: string;
let registry: TestRegistry;
let host: Record<string, string>;
const published: string[] = [];

/** What the installed command prints for ARGS (exit 0 and nothing on stderr, or the test fails). */
async function runDockerOutput(args: string[]): Promise<string> {
  const outcome = await runShim(args, host);
  expect({ code: outcome.code, stderr: outcome.stderr, why: explain(outcome) }).toEqual({
    code: 0,
    stderr: '',
    why: explain(outcome),
  });
  return outcome.stdout;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'run-docker-completion-'));
  registry = await startRegistry();
  const tiny = await publish('tiny', `${registry.address}/completion-${process.pid}/tiny`);
  published.push(
    tiny,
    await publish('mini', `${registry.address}/completion-${process.pid}/mini`, ['--version', '20261128-000000']),
  );
  published.push(`${registry.address}/completion-${process.pid}/mini:20261128-000000`);
  host = await makeHost({
    RUN_DOCKER_TINY: tiny,
    RUN_DOCKER_MINI: `${registry.address}/completion-${process.pid}/mini`,
  });
  bashScript = join(dir, 'run-docker.bash');
  await writeFile(bashScript, await runDockerOutput(['--completion', 'bash']));
  await writeFile(join(dir, '_run-docker'), await runDockerOutput(['--completion', 'zsh']));
  await buildBusyboxImage(IMAGE);
});

afterAll(async () => {
  await removeImages([IMAGE, ...published]);
  await registry?.remove();
  await removeHosts();
  await rm(dir, { recursive: true, force: true });
});

/** A project folder with a pyproject.toml and a subfolder `src`, inside the test's folder. */
async function makeProjectFolder(): Promise<string> {
  const project = join(dir, 'project');
  await mkdir(join(project, 'src'), { recursive: true });
  await writeFile(join(project, 'pyproject.toml'), '[tool.run-docker]\nimage = "team/app"\n');
  return project;
}

test('run-docker --help shows the options and examples from real workflows', async () => {
  const help = await runDockerOutput(['--help']);
  expect(help).toMatch(/^Usage: run-docker /m);
  expect(help).toContain('\nExamples:\n');
  for (const example of ['notebook', '--local', '--dry-run', 'py.test']) expect(help).toContain(example);
});

/** COMP_WORDS as bash fills them: blanks separate words, and ":" and "=" (in COMP_WORDBREAKS) are words of their own. */
function compWords(line: string): string[] {
  const words = line.split(/ +/).flatMap((word) => word.split(/([:=]+)/).filter((part) => part !== ''));
  return line.endsWith(' ') ? [...words.filter((word) => word !== ''), ''] : words;
}

/** What bash offers for LINE<TAB> (the cursor at the end): COMPREPLY after calling _run_docker. */
async function completeBash(line: string, cwd?: string): Promise<string[]> {
  const words = compWords(line);
  const driver =
    'source "$1"; COMP_LINE=$2; COMP_POINT=${#2}; COMP_CWORD=$3; shift 3; COMP_WORDS=("$@"); _run_docker; printf "%s\\n" "${COMPREPLY[@]}"';
  const result = await runCommand(
    'bash',
    ['--norc', '-c', driver, 'bash', bashScript, line, String(words.length - 1), ...words],
    { cwd },
  );
  if (result.code !== 0 || result.stderr !== '') throw new Error(`bash: exit ${result.code}\n${result.stderr}`);
  return result.stdout.split('\n').filter((word) => word !== '');
}

/** What zsh's completion system offers for LINE<TAB>, through the script installed in fpath. */
async function completeZsh(line: string, cwd = dir): Promise<string[]> {
  const result = await runCommand('zsh', ['-f', ZSH_HARNESS, dir, line], { timeoutMs: 30_000, cwd });
  if (result.code !== 0) throw new Error(`zsh: exit ${result.code}\n${result.stdout}${result.stderr}`);
  return [...new Set(result.stdout.split('\n').filter((word) => word !== ''))];
}

describe('bash', () => {
  test('the script is valid bash', async () => {
    expect(await runCommand('bash', ['-n', bashScript])).toMatchObject({ code: 0, stderr: '' });
  });

  test("--host<TAB> offers run-docker's and docker run's options of that prefix", async () => {
    expect((await completeBash('run-docker --host')).sort()).toEqual([
      '--hostdatadir',
      '--hostlogdir',
      '--hostname',
      '--hostsrcdir',
    ]);
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

  test('folders for --hostdatadir, each whole even with a blank in its name, and "no"', async () => {
    await mkdir(join(dir, 'data one'));
    await mkdir(join(dir, 'data2'));
    const offered = await completeBash(`run-docker --hostdatadir ${dir}/da`);
    expect(offered.sort()).toEqual([`${dir}/data one`, `${dir}/data2`]);
    expect(await completeBash('run-docker --hostlogdir no')).toContain('no');
  });

  test('at IMAGE, "." and ".prod" in a project (a pyproject.toml here or above), not elsewhere', async () => {
    const project = await makeProjectFolder();
    expect(await completeBash('run-docker -e A=1 .', join(project, 'src'))).toEqual(['.', '.prod']);
    expect(await completeBash('run-docker .', dir)).toEqual([]);
  });

  test("after IMAGE nothing of ours: the words belong to the container's command", async () => {
    expect(await completeBash(`run-docker ${IMAGE} --host`)).toEqual([]);
    expect(await completeBash(`run-docker -- ${REPOSITORY.slice(0, -2)}`)).toEqual(expect.arrayContaining([IMAGE]));
  });
});

describe('zsh', () => {
  test('the script is valid zsh', async () => {
    expect(await runCommand('zsh', ['-n', join(dir, '_run-docker')])).toMatchObject({ code: 0, stderr: '' });
  });

  test('--host<TAB> offers the options of that prefix', async () => {
    expect(await completeZsh('run-docker --host')).toEqual(
      expect.arrayContaining(['--hostdatadir', '--hostlogdir', '--hostname', '--hostsrcdir']),
    );
    expect(await completeZsh('run-docker --host')).not.toContain('--help');
  });

  test('at IMAGE it offers the local images; a value is not an option; after IMAGE no options', async () => {
    expect(await completeZsh(`run-docker -it -e A=1 ${REPOSITORY.slice(0, -2)}`)).toEqual(
      expect.arrayContaining([REPOSITORY, IMAGE]),
    );
    expect(await completeZsh('run-docker --completion ')).toEqual(['bash', 'zsh']);
    expect(await completeZsh('run-docker -e --host')).not.toContain('--hostdatadir');
    expect(await completeZsh(`run-docker ${IMAGE} --host`)).not.toContain('--hostdatadir');
  });

  test('at IMAGE, "." and ".prod" in a project, not elsewhere', async () => {
    const project = await makeProjectFolder();
    expect(await completeZsh('run-docker .', join(project, 'src'))).toEqual(expect.arrayContaining(['.', '.prod']));
    expect(await completeZsh('run-docker .')).not.toContain('.prod');
  });
});
