# Real zsh completion, non-interactively: zsh -f complete-zsh.zsh FPATH_DIR LINE
# starts an interactive zsh on a pseudo-terminal (zsh/zpty) with compinit and FPATH_DIR
# first in fpath, types LINE and a TAB, and prints every match the completion system
# adds (through a compadd wrapper), one per line. The inner shell exits after completing.
zmodload zsh/zpty
zpty rdc zsh -f -i
zpty -w rdc "fpath=(${(q)1} \$fpath); PS1=''"
zpty -w rdc 'autoload -Uz compinit && compinit -u -D'
zpty -w rdc 'compadd() { local -a __m; builtin compadd -O __m "$@"; (( ${#__m} )) && print -rl -- "MATCH:"${^__m}; builtin compadd "$@"; }'
zpty -w rdc 'comppostfuncs=(rdc-done); rdc-done() { print -r -- "RDC-END"; exit; }'
zpty -w rdc 'bindkey "^I" complete-word; print -r -- RDC-READY'
while zpty -r rdc line; do [[ $line == RDC-READY* ]] && break; done
zpty -w -n rdc "$2"$'\t'
while zpty -r rdc line; do
  line=${line%$'\n'}
  line=${line%$'\r'}
  [[ $line == *MATCH:* ]] && print -r -- "${line##*MATCH:}"
  [[ $line == *RDC-END* ]] && break
done
zpty -d rdc
