// `proclaunch completion bash|zsh`: a completion script made from the command
// and option tables themselves (so it never lags behind them); service names
// come from the running supervisor through `proclaunch completion names`.
import { ask } from '../../control/client.js';
import type { ServiceStatus } from '../../control/protocol.js';
import { profileOf } from '../../vocabulary/tags.js';
import { EXIT, UsageError } from '../usage.js';
import { out, type Command } from './command.js';

/** What zsh shows beside each command. */
const SUMMARY: Record<string, string> = {
  supervise: 'run the supervisor on STATE_DIR and PROFILES_DIR',
  status: 'state of every service, or one in detail',
  start: 'start services and wait until ready',
  stop: 'stop services (kept down until start)',
  restart: 'restart services',
  reload: "send services their reload signal",
  signal: 'send services a signal',
  logs: "a service's captured output",
  events: 'the event history',
  ps: "every process of every service",
  check: 'Nagios/Icinga plugin',
  rescan: 'look at PROFILES_DIR now',
  quit: 'stop every service, then the supervisor',
  completion: 'print a bash or zsh completion script',
  fleet: 'a command on many hosts over ssh',
};

/** Commands whose words after the options are service names. */
const TAKES_NAMES = ['status', 'start', 'stop', 'restart', 'reload', 'signal', 'logs', 'check', 'events', 'ps'];
/** Options whose value is a file or directory. */
const PATH_OPTIONS = ['--state', '--hooks', '--log-path'];
const SIGNALS = 'HUP INT QUIT KILL USR1 USR2 TERM CONT STOP TSTP WINCH';

export interface CompletionTable {
  /** Each command, with every option it takes (`--long` and `-s`). */
  commands: Array<{ name: string; options: string[] }>;
}

function bash({ commands }: CompletionTable): string {
  const cases = commands.map((c) => `      ${c.name}) opts="${c.options.join(' ')}" ;;`).join('\n');
  return `# bash completion for proclaunch. Load it with
#   eval "$(proclaunch completion bash)"                  (in ~/.bashrc), or save it as
#   /etc/bash_completion.d/proclaunch
_proclaunch() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" i
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${commands.map((c) => c.name).join(' ')} --help --version" -- "$cur") $(compgen -d -- "$cur"))
    return
  fi
  local command="\${COMP_WORDS[1]}" opts=""
  case "$prev" in ${PATH_OPTIONS.join('|')}) COMPREPLY=($(compgen -f -- "$cur")); return ;; esac
  if [[ "$cur" == -* ]]; then
    case "$command" in
${cases}
      *) opts="${commands.find((c) => c.name === 'supervise')!.options.join(' ')}" ;; # the ProcLaunch shorthand
    esac
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    return
  fi
  case "$command" in
    completion) COMPREPLY=($(compgen -W "bash zsh" -- "$cur")) ;;
    signal) if [ "$COMP_CWORD" -eq 2 ]; then COMPREPLY=($(compgen -W "${SIGNALS}" -- "$cur")); return; fi ;&
    ${TAKES_NAMES.filter((n) => n !== 'signal').join('|')})
      local state=()
      for ((i = 2; i < COMP_CWORD; i++)); do
        case "\${COMP_WORDS[i]}" in --state) state=(--state "\${COMP_WORDS[i+1]}") ;; --state=*) state=("\${COMP_WORDS[i]}") ;; esac
      done
      COMPREPLY=($(compgen -W "$("\${COMP_WORDS[0]}" completion names "\${state[@]}" 2>/dev/null)" -- "$cur")) ;;
    *) COMPREPLY=($(compgen -d -- "$cur")) ;;
  esac
}
complete -F _proclaunch proclaunch
`;
}

function zsh({ commands }: CompletionTable): string {
  const described = commands.map((c) => `    '${c.name}:${(SUMMARY[c.name] ?? '').replace(/'/g, "'\\''")}'`).join('\n');
  const cases = commands.map((c) => `      ${c.name}) compadd -- ${c.options.join(' ')} ;;`).join('\n');
  return `#compdef proclaunch
# zsh completion for proclaunch. Load it with
#   eval "$(proclaunch completion zsh)"                   (in ~/.zshrc, after compinit), or save it as
#   _proclaunch in a directory of $fpath
_proclaunch() {
  local -a commands names state
  commands=(
${described}
  )
  if (( CURRENT == 2 )); then
    _describe 'command' commands
    _files -/
    return
  fi
  local command=\${words[2]} i
  case \${words[CURRENT-1]} in ${PATH_OPTIONS.join('|')}) _files; return ;; esac
  if [[ \${words[CURRENT]} == -* ]]; then
    case $command in
${cases}
    esac
    return
  fi
  case $command in
    completion) compadd bash zsh ;;
    signal) if (( CURRENT == 3 )); then compadd ${SIGNALS}; return; fi ;&
    ${TAKES_NAMES.filter((n) => n !== 'signal').join('|')})
      for (( i = 3; i < CURRENT; i++ )); do
        case \${words[i]} in --state) state=(--state \${words[i+1]}) ;; --state=*) state=(\${words[i]}) ;; esac
      done
      names=(\${(f)"$(\${words[1]} completion names $state 2>/dev/null)"})
      compadd -a names ;;
    *) _files -/ ;;
  esac
}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then _proclaunch "$@"; else compdef _proclaunch proclaunch; fi
`;
}

/** Every tag, and each instanced profile's name (`pool` for pool@1 … pool@N): what commands take. */
export function completionNames(services: Pick<ServiceStatus, 'name'>[]): string[] {
  const names = new Set<string>();
  for (const { name } of services) {
    names.add(name);
    if (name.includes('@')) names.add(profileOf(name));
  }
  return [...names].filter((n) => !/\s/.test(n)).sort();
}

export const completion: Command = {
  options: {},
  help: `Usage: proclaunch completion bash|zsh
Print a completion script: commands, their options, and service names, asked of the running
supervisor (of --state DIR or $PROCLAUNCH_STATE, as the command line being completed says).
  names        (used by the scripts) the service names, one a line; nothing without a supervisor
Example: proclaunch completion bash > /etc/bash_completion.d/proclaunch   (or eval "$(proclaunch completion bash)")
`,
  async run({ stateDir, names: [shell, ...rest] }) {
    if (rest.length > 0 || !shell) throw new UsageError('completion: give bash, zsh (or names)');
    if (shell === 'names') {
      // A completion must never hang the shell: a supervisor that does not answer in a second gives nothing.
      setTimeout(() => process.exit(EXIT.ok), 1000).unref();
      const reply = await ask(stateDir, { command: 'status', usage: false }).catch(() => null);
      if (reply?.ok === true) out(completionNames(reply.services as ServiceStatus[]).map((n) => `${n}\n`).join(''));
      return EXIT.ok;
    }
    if (shell !== 'bash' && shell !== 'zsh') throw new UsageError(`completion: ${JSON.stringify(shell)} is not a shell I know: bash or zsh`);
    const table = await (await import('../control.js')).completionTable();
    out(shell === 'bash' ? bash(table) : zsh(table));
    return EXIT.ok;
  },
};
