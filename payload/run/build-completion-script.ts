/**
 * `run-docker --completion bash|zsh`: a completion script generated from the option table
 * the parser uses (docker-run-options.ts), so completion and grammar cannot drift apart.
 *
 * What it completes follows parse-invocation.ts: before IMAGE, options (a value-taking
 * option's next word is its value, whatever it looks like, as pflag reads it); at IMAGE,
 * the images on this host; after IMAGE nothing of ours, since those words belong to the
 * container's command (the shell's default, file names, takes over). Images are listed by
 * the script itself with the docker CLI at completion time: asking run-docker would start
 * the shim, tiny and mini, about a second per TAB.
 *
 * The shell code lives in shell files (completion/run-docker.bash and .zsh), checked by
 * scripts/test (shellcheck for bash; zsh -n for zsh, which shellcheck cannot read). They are
 * templates: this module fills in their @NAME@ placeholders from the option table. They are
 * imported as text: esbuild's text loader in the bundle (scripts/build.mjs), the same as a
 * Jest transform in the unit tests (scripts/jest-text-transform.cjs, jest.config.js).
 */
import {
  DOCKER_RUN_OPTION_ALIASES,
  DOCKER_RUN_OPTIONS,
  RUN_DOCKER_OPTIONS,
  type DockerRunOptionName,
  type ValueCompletion,
} from './docker-run-options';
import type { CompletionShell } from './invocation';
import BASH_TEMPLATE from './completion/run-docker.bash';
import ZSH_TEMPLATE from './completion/run-docker.zsh';

export type { ValueCompletion };

export interface CompletionOption {
  /** Without dashes. */
  long: string;
  short?: string;
  /** Undefined for a flag without a value. */
  value?: ValueCompletion;
  /** For zsh's listing: run-docker's own help line, or "docker run option". */
  help: string;
}

/**
 * Values worth offering for docker's options (run-docker's own give theirs in their table
 * rows); every other value falls back to file names.
 */
const DOCKER_VALUE_COMPLETIONS: Partial<Record<DockerRunOptionName, ValueCompletion>> = {
  pull: { kind: 'words', words: ['always', 'missing', 'never'] },
};

const FILES: ValueCompletion = { kind: 'files' };

/** docker run options the parser always refuses (parse-invocation.ts: run-docker picks the user); offering them would only lead to an error. */
const REFUSED: ReadonlySet<DockerRunOptionName> = new Set(['user']);

/**
 * Every option the parser accepts before IMAGE, by the parser's rules: run-docker's own
 * option wins over docker's of the same long name or letter (`-m`, `-d`, `-q`). The hidden
 * docker aliases (`--net`) are left out, as docker's own completion does, and so is
 * `--user`, which run-docker refuses.
 */
export function listCompletionOptions(): CompletionOption[] {
  const ownLongs = new Set<string>(RUN_DOCKER_OPTIONS.map((option) => option.long));
  const ownShorts = new Set(RUN_DOCKER_OPTIONS.flatMap((option) => (option.short ? [option.short] : [])));
  const own: CompletionOption[] = RUN_DOCKER_OPTIONS.map((option) => ({
    long: option.long,
    short: option.short,
    value: option.value === undefined ? undefined : (option.complete ?? FILES),
    help: option.help,
  }));
  const docker: CompletionOption[] = DOCKER_RUN_OPTIONS.filter(
    (option) => !ownLongs.has(option.long) && !REFUSED.has(option.long),
  ).map((option) => ({
    long: option.long,
    short: option.short !== undefined && !ownShorts.has(option.short) ? option.short : undefined,
    value: option.takesValue ? (DOCKER_VALUE_COMPLETIONS[option.long] ?? FILES) : undefined,
    help: 'docker run option',
  }));
  return [...own, ...docker];
}

export function buildCompletionScript(shell: CompletionShell, miniVersion: string): string {
  const options = listCompletionOptions();
  return shell === 'bash' ? buildBashScript(options, miniVersion) : buildZshScript(options, miniVersion);
}

/**
 * TEMPLATE with each `@NAME@` replaced by VALUES[NAME], verbatim: the caller quotes. Every
 * placeholder must have a value and every value a placeholder, so template and code cannot
 * drift apart unnoticed.
 */
export function fillTemplate(template: string, values: Readonly<Record<string, string>>): string {
  const unused = new Set(Object.keys(values));
  const filled = template.replace(/@([A-Z_]+)@/g, (placeholder, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`completion template: no value for ${placeholder}`);
    unused.delete(name);
    return value;
  });
  if (unused.size > 0) throw new Error(`completion template: no placeholder for ${[...unused].join(', ')}`);
  return filled;
}

/** Words for a placeholder inside single quotes in a template (they never hold a quote). */
function quotable(text: string): string {
  if (text.includes("'")) throw new Error(`a completion word holds a quote: ${text}`);
  return text;
}

function buildBashScript(options: readonly CompletionOption[], miniVersion: string): string {
  const valueOptions = options.filter((option) => option.value);
  const valueCompletions = valueOptions.flatMap(({ long, short, value }) => {
    if (!value || value.kind === 'files') return [];
    const names = [`--${long}`, ...(short ? [`-${short}`] : [])].join('|');
    const words = value.kind === 'dirs' ? value.extra : value.words;
    return [[names, value.kind, ...words].join(' ')];
  });
  return fillTemplate(BASH_TEMPLATE, {
    MINI_VERSION: miniVersion,
    LONG_OPTIONS: quotable(options.map((option) => `--${option.long}`).join(' ')),
    VALUE_LONGS: quotable(valueOptions.map((option) => `--${option.long}`).join(' ')),
    VALUE_SHORTS: quotable(valueOptions.flatMap((option) => (option.short ? [option.short] : [])).join('')),
    VALUE_COMPLETIONS: quotable(valueCompletions.join('\n')),
  });
}

/** A description for zsh's _arguments: inside [...], so brackets and backslashes are escaped. */
function zshDescription(text: string): string {
  return text.replace(/[\\[\]]/g, (char) => `\\${char}`).replace(/'/g, `'\\''`);
}

function zshAction(value: ValueCompletion): string {
  switch (value.kind) {
    case 'files':
      return '_files';
    case 'dirs':
      // Through a function: _arguments splits a spec at colons, which _alternative's specs hold.
      return ['_run-docker_folders', ...value.extra].join(' ');
    case 'words':
      return `(${value.words.join(' ')})`;
  }
}

function zshSpecs(option: CompletionOption): string[] {
  const description = `[${zshDescription(option.help)}]`;
  // "*": every option may be repeated (-e, -v) or harmlessly given twice.
  if (!option.value) {
    return [`*--${option.long}${description}`, ...(option.short ? [`*-${option.short}${description}`] : [])];
  }
  // "=": --name=value or --name value; "+": -nvalue or -n value (pflag accepts both).
  const action = `:value:${zshAction(option.value)}`;
  return [
    `*--${option.long}=${description}${action}`,
    ...(option.short ? [`*-${option.short}+${description}${action}`] : []),
  ];
}

function buildZshScript(options: readonly CompletionOption[], miniVersion: string): string {
  return fillTemplate(ZSH_TEMPLATE, {
    MINI_VERSION: miniVersion,
    OPTION_COUNT: String(options.length),
    HIDDEN_ALIAS_COUNT: String(Object.keys(DOCKER_RUN_OPTION_ALIASES).length),
    // One quoted spec a line, continuing the _arguments call the placeholder stands in.
    OPTION_SPECS: options
      .flatMap(zshSpecs)
      .map((spec) => `'${spec}'`)
      .join(' \\\n    '),
  });
}
