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
 */
import { DOCKER_RUN_OPTION_ALIASES, DOCKER_RUN_OPTIONS, RUN_DOCKER_OPTIONS } from './docker-run-options';
import type { CompletionShell } from './invocation';

/** How the value of an option is completed. */
export type ValueCompletion =
  | { kind: 'files' }
  | { kind: 'dirs'; extra: readonly string[] }
  | { kind: 'words'; words: readonly string[] };

export interface CompletionOption {
  /** Without dashes. */
  long: string;
  short?: string;
  /** Undefined for a flag without a value. */
  value?: ValueCompletion;
  /** For zsh's listing: run-docker's own help line, or "docker run option". */
  help: string;
}

/** Values worth offering; every other value falls back to file names (paths are common: -v, --env-file). */
const VALUE_COMPLETIONS: Readonly<Record<string, ValueCompletion>> = {
  completion: { kind: 'words', words: ['bash', 'zsh'] },
  restart: { kind: 'words', words: ['no', 'always', 'unless-stopped', 'on-failure'] },
  pull: { kind: 'words', words: ['always', 'missing', 'never'] },
  hostdatadir: { kind: 'dirs', extra: ['no'] },
  hostlogdir: { kind: 'dirs', extra: ['no'] },
  hostsrcdir: { kind: 'dirs', extra: [] },
};

const FILES: ValueCompletion = { kind: 'files' };

/** docker run options the parser always refuses (parse-invocation.ts: run-docker picks the user); offering them would only lead to an error. */
const REFUSED = new Set(['user']);

/**
 * Every option the parser accepts before IMAGE, by the parser's rules: run-docker's own
 * option wins over docker's of the same long name or letter (`-h` is help, so docker's
 * `--hostname` has no shorthand here). The hidden docker aliases (`--net`) are left out,
 * as docker's own completion does, and so is `--user`, which run-docker refuses.
 */
export function listCompletionOptions(): CompletionOption[] {
  const ownLongs = new Set(RUN_DOCKER_OPTIONS.map((option) => option.long));
  const ownShorts = new Set(RUN_DOCKER_OPTIONS.flatMap((option) => (option.short ? [option.short] : [])));
  const valueOf = (long: string) => VALUE_COMPLETIONS[long] ?? FILES;
  const own: CompletionOption[] = RUN_DOCKER_OPTIONS.map((option) => ({
    long: option.long,
    short: option.short,
    value: option.value === undefined ? undefined : valueOf(option.long),
    help: option.help,
  }));
  const docker: CompletionOption[] = DOCKER_RUN_OPTIONS.filter((option) => !ownLongs.has(option.long) && !REFUSED.has(option.long)).map((option) => ({
    long: option.long,
    short: option.short !== undefined && !ownShorts.has(option.short) ? option.short : undefined,
    value: option.takesValue ? valueOf(option.long) : undefined,
    help: 'docker run option',
  }));
  return [...own, ...docker];
}

export function buildCompletionScript(shell: CompletionShell, miniVersion: string): string {
  const options = listCompletionOptions();
  return shell === 'bash' ? buildBashScript(options, miniVersion) : buildZshScript(options, miniVersion);
}

// Both scripts list images with two fields, so "host:5000/app" (a port) is never cut at a
// colon; an untagged repository is offered alone (run-docker picks its newest tag), a
// tagged one both alone and as repo:tag (to pin a version).
const DOCKER_IMAGES = `command docker images --format '{{.Repository}} {{.Tag}}' 2>/dev/null`;

/** A word list as one single-quoted shell word (the words here never hold a quote). */
function quoteWords(words: readonly string[]): string {
  const text = words.join(' ');
  if (text.includes("'")) throw new Error(`a completion word holds a quote: ${text}`);
  return `'${text}'`;
}

function buildBashScript(options: readonly CompletionOption[], miniVersion: string): string {
  const longs = options.map((option) => `--${option.long}`);
  const valueLongs = options.filter((option) => option.value).map((option) => `--${option.long}`);
  const valueShorts = options.filter((option) => option.value && option.short).map((option) => option.short);
  const valueCases = options
    .filter((option) => option.value && option.value.kind !== 'files')
    .map((option) => {
      const names = [`--${option.long}`, ...(option.short ? [`-${option.short}`] : [])].join('|');
      const value = option.value!;
      const body =
        value.kind === 'dirs'
          ? `compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- "$cur") $(compgen -W ${quoteWords(value.extra)} -- "$cur"))`
          : `COMPREPLY=($(compgen -W ${quoteWords(value.kind === 'words' ? value.words : [])} -- "$cur"))`;
      return `    ${names}) ${body} ;;`;
    })
    .join('\n');
  return `# bash completion for run-docker, generated by "run-docker --completion bash" (mini ${miniVersion}).
# Install: run-docker --completion bash > ~/.local/share/bash-completion/completions/run-docker
# Before IMAGE: run-docker's and docker run's options; at IMAGE: the images on this host
# (from the docker CLI, no run-docker call); after IMAGE: the default, file names.

_run_docker_long_options=${quoteWords(longs)}
# Options whose next word is their value, whatever it looks like (pflag's rule).
_run_docker_value_longs=' ${valueLongs.join(' ')} '
_run_docker_value_shorts='${valueShorts.join('')}'

# Sets _run_docker_words and _run_docker_cword: COMP_WORDS with bash's splits at ":" and
# "=" undone (COMP_WORDBREAKS has both), so "host:5000/app:tag" and "--name=value" are
# one word, as run-docker reads them. A token joins the previous one when COMP_LINE has
# no blank between them.
_run_docker_join_words() {
  _run_docker_words=()
  _run_docker_cword=0
  local line=\${COMP_LINE-} token trimmed spaced last i
  for ((i = 0; i < \${#COMP_WORDS[@]}; i++)); do
    token=\${COMP_WORDS[i]}
    spaced=1
    if [[ -n \${COMP_LINE+set} ]]; then
      trimmed=\${line#"\${line%%[![:space:]]*}"}
      [[ \${#trimmed} -eq \${#line} ]] && spaced=0
      line=\${trimmed#"$token"}
    fi
    last=$((\${#_run_docker_words[@]} - 1))
    if ((i > 0 && !spaced)) && [[ $token =~ ^[:=]+$ || \${_run_docker_words[last]} =~ [:=]$ ]]; then
      _run_docker_words[last]+=$token
    else
      _run_docker_words+=("$token")
    fi
    ((i == COMP_CWORD)) && _run_docker_cword=$((\${#_run_docker_words[@]} - 1))
  done
}

# Completions are for the whole word; readline replaces only what follows the last
# ":" or "=" in it (when those break words), so that part is cut from each.
_run_docker_cut_prefixes() {
  local whole=$1 tail=$1 char prefix i
  for char in : =; do
    [[ $COMP_WORDBREAKS == *"$char"* ]] && tail=\${tail##*"$char"}
  done
  prefix=\${whole%"$tail"}
  [[ -z $prefix ]] && return
  for i in "\${!COMPREPLY[@]}"; do COMPREPLY[i]=\${COMPREPLY[i]#"$prefix"}; done
}

_run_docker_images() {
  local repository tag
  ${DOCKER_IMAGES} | while read -r repository tag; do
    [[ $repository == '<none>' ]] && continue
    printf '%s\\n' "$repository"
    [[ $tag != '<none>' ]] && printf '%s\\n' "$repository:$tag"
  done
}

# The value of OPTION at the cursor: a few known words or folders, else empty, which
# "complete -o default" turns into file names.
_run_docker_complete_value() {
  local cur=$2
  case $1 in
${valueCases}
  esac
}

_run_docker() {
  COMPREPLY=()
  # Word lists below are split on blanks, whatever the user's shell has in IFS.
  local IFS=$' \t\n'
  local _run_docker_words _run_docker_cword
  _run_docker_join_words
  local cur=\${_run_docker_words[_run_docker_cword]} word letters letter i=1
  while ((i < _run_docker_cword)); do
    word=\${_run_docker_words[i]}
    case $word in
      --)
        # The next word is IMAGE; after it, the container's command.
        ((i + 1 == _run_docker_cword)) || return 0
        break
        ;;
      --*=*) ;;
      --*)
        if [[ $_run_docker_value_longs == *" $word "* ]]; then
          ((++i == _run_docker_cword)) && { _run_docker_complete_value "$word" "$cur"; return 0; }
        fi
        ;;
      -?*)
        # A group of letters: a value-taking one takes the rest of the group, or the next word.
        letters=\${word#-}
        while [[ -n $letters && $letters != =* ]]; do
          letter=\${letters:0:1}
          letters=\${letters:1}
          if [[ $_run_docker_value_shorts == *"$letter"* ]]; then
            if [[ -z $letters ]]; then
              ((++i == _run_docker_cword)) && { _run_docker_complete_value "-$letter" "$cur"; return 0; }
            fi
            break
          fi
        done
        ;;
      *)
        # IMAGE was given: the rest belongs to the container's command.
        return 0
        ;;
    esac
    ((i++))
  done
  if [[ $cur == --*=* && $word != -- ]]; then
    _run_docker_complete_value "\${cur%%=*}" "\${cur#*=}"
    [[ $COMP_WORDBREAKS == *=* ]] || COMPREPLY=("\${COMPREPLY[@]/#/\${cur%%=*}=}")
  elif [[ $cur == -* && $word != -- ]]; then
    COMPREPLY=($(compgen -W "$_run_docker_long_options" -- "$cur"))
  else
    COMPREPLY=($(compgen -W "$(_run_docker_images | sort -u)" -- "$cur"))
    _run_docker_cut_prefixes "$cur"
  fi
  return 0
}

complete -o default -F _run_docker run-docker
`;
}

/** A description for zsh's _arguments: inside [...], so brackets and backslashes are escaped. */
function zshDescription(text: string): string {
  return text.replace(/[\\[\]]/g, (char) => `\\${char}`).replace(/'/g, `'\\''`);
}

/** zsh completer functions for option values that need more than a word list; defined in the script. */
const ZSH_HELPERS = `(( $+functions[_run-docker_folders] )) ||
_run-docker_folders() {
  # A folder, or one of the words given (--hostdatadir no).
  if (( $# )); then
    _alternative 'folders:folder:_files -/' "words:word:($*)"
  else
    _files -/
  fi
}`;

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
  return [`*--${option.long}=${description}${action}`, ...(option.short ? [`*-${option.short}+${description}${action}`] : [])];
}

function buildZshScript(options: readonly CompletionOption[], miniVersion: string): string {
  const specs = options.flatMap(zshSpecs).map((spec) => `  '${spec}'`);
  const hiddenAliases = Object.keys(DOCKER_RUN_OPTION_ALIASES).length;
  return `#compdef run-docker
# zsh completion for run-docker, generated by "run-docker --completion zsh" (mini ${miniVersion}).
# Install: run-docker --completion zsh > ~/.zfunc/_run-docker, with fpath=(~/.zfunc $fpath)
# before compinit in ~/.zshrc. Before IMAGE: run-docker's and docker run's options
# (${options.length}, without docker's ${hiddenAliases} hidden aliases); at IMAGE: the images on this host (from the docker
# CLI, no run-docker call); after IMAGE: file names, as the words are the container's.

${ZSH_HELPERS}

(( $+functions[_run-docker_images] )) ||
_run-docker_images() {
  local -a lines images
  local line repository tag
  lines=(\${(f)"$(${DOCKER_IMAGES})"})
  for line in $lines; do
    repository=\${line%% *}
    tag=\${line#* }
    [[ $repository == '<none>' ]] && continue
    images+=($repository)
    [[ $tag != '<none>' ]] && images+=($repository:$tag)
  done
  images=(\${(u)images})
  _wanted images expl image compadd -a images
}

_run-docker() {
  # -s: letters group (-it); -S: "--" ends the options; -A "-*": no options after IMAGE.
  _arguments -s -S -A '-*' : \\
${specs.join(' \\\n')} \\
    '1:image:_run-docker_images' \\
    '*::argument:_files'
}

_run-docker "$@"
`;
}
