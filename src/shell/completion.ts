import type { CommandSpec, OptionSpec, ProgramSpec } from './tree.js';

// Completion scripts for bash, zsh and fish, written from the command tree: commands, each one's
// options and the global ones, the values of options and arguments that are fixed sets, and file
// names where a path is expected.

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

export function completionScript(shell: Shell, program: ProgramSpec): string {
  switch (shell) {
    case 'bash': return bash(program);
    case 'zsh': return zsh(program);
    case 'fish': return fish(program);
  }
}

const names = (option: OptionSpec): string[] => [option.short, option.long].filter((n): n is string => n !== null);

/** Every value the command's arguments may take from a fixed set (`demo tcp|udp`, `help TOPIC`). */
const argumentChoices = (command: CommandSpec): string[] => command.arguments.flatMap((a) => a.choices ?? []);

function bash(program: ProgramSpec): string {
  const fn = `_${program.name.replace(/\W/g, '_')}`;
  const globals = program.options.flatMap(names);
  const valueCases = (options: OptionSpec[], indent: string): string[] => options.filter((o) => o.value !== null).map((o) => {
    const action = o.choices ? `COMPREPLY=($(compgen -W '${o.choices.join(' ')}' -- "$cur"))` : o.file ? 'COMPREPLY=($(compgen -f -- "$cur"))' : 'COMPREPLY=()';
    return `${indent}${names(o).join('|')}) ${action}; return ;;`;
  });
  const commandCases = program.commands.map((c) => {
    const options = [...c.options.flatMap(names), ...globals];
    const values = valueCases(c.options, '        ');
    return [
      `    ${c.name})`,
      ...(values.length ? ['      case "$prev" in', ...values, '      esac'] : []),
      `      if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W '${options.join(' ')}' -- "$cur"))`,
      `      else COMPREPLY=($(compgen -W '${argumentChoices(c).join(' ')}' -- "$cur")); fi`,
      '      ;;',
    ].join('\n');
  });
  return `# ${program.name} completion for bash. Load it in this shell:
#   source <(${program.name} completion bash)
# or for every new shell:
#   ${program.name} completion bash > ~/.local/share/bash-completion/completions/${program.name}
${fn}() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" command="" i
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in
      -*) ;;
      *) command="\${COMP_WORDS[i]}"; break ;;
    esac
  done
  case "$command" in
    "") COMPREPLY=($(compgen -W '${[...program.commands.map((c) => c.name), ...globals].join(' ')}' -- "$cur")) ;;
${commandCases.join('\n')}
  esac
}
complete -o default -F ${fn} ${program.name}
`;
}

/** Text inside a zsh `_arguments` spec, which gives [ ] : and \\ their own meaning, single-quoted. */
function zshText(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\[/g, '(').replace(/\]/g, ')').replace(/:/g, '\\:').replace(/'/g, `'\\''`);
}

function zshOption(option: OptionSpec): string {
  const value = option.value === null ? '' : `:${zshText(option.value)}:${option.choices ? `(${option.choices.join(' ')})` : option.file ? '_files' : ' '}`;
  const spec = (name: string) => `'${name}[${zshText(option.description)}]${value}'`;
  const both = names(option);
  if (both.length < 2) return spec(both[0]!);
  return `'(${both.join(' ')})'{${both.join(',')}}'[${zshText(option.description)}]${value}'`;
}

function zsh(program: ProgramSpec): string {
  const fn = `_${program.name.replace(/\W/g, '_')}`;
  const commands = program.commands.map((c) => `    '${zshText(c.name)}:${zshText(c.description)}'`);
  const cases = program.commands.map((c) => {
    const specs = [
      ...[...c.options, ...program.options].map(zshOption),
      ...c.arguments.map((a, i) => `'${i + 1}:${zshText(a.name)}:${a.choices ? `(${a.choices.join(' ')})` : ' '}'`),
    ];
    return `      ${c.name}) _arguments -s ${specs.join(' \\\n          ')} ;;`;
  });
  return `#compdef ${program.name}
# ${program.name} completion for zsh. Load it in this shell:
#   source <(${program.name} completion zsh)
# or for every new shell, in a directory of $fpath:
#   ${program.name} completion zsh > "\${fpath[1]}/_${program.name}"
${fn}() {
  local -a commands
  commands=(
${commands.join('\n')}
  )
  local curcontext="$curcontext" state line
  _arguments -C -s \\
    ${program.options.map(zshOption).join(' \\\n    ')} \\
    '1: :->command' \\
    '*:: :->argument'
  case $state in
    command) _describe -t commands 'netnote command' commands ;;
    argument)
      case $line[1] in
${cases.join('\n')}
      esac ;;
  esac
}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then ${fn} "$@"; else compdef ${fn} ${program.name}; fi
`;
}

function fishText(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function fishOption(program: string, condition: string | null, option: OptionSpec): string {
  const parts = [`complete -c ${program}`];
  if (condition) parts.push(`-n ${fishText(condition)}`);
  if (option.short) parts.push(`-s ${option.short.slice(1)}`);
  if (option.long) parts.push(`-l ${option.long.slice(2)}`);
  if (option.value !== null) parts.push(option.choices ? `-x -a ${fishText(option.choices.join(' '))}` : option.file ? '-r -F' : '-x');
  parts.push(`-d ${fishText(option.description)}`);
  return parts.join(' ');
}

function fish(program: ProgramSpec): string {
  const lines = [
    `# ${program.name} completion for fish. Load it in this shell:`,
    `#   ${program.name} completion fish | source`,
    '# or for every new shell:',
    `#   ${program.name} completion fish > ~/.config/fish/completions/${program.name}.fish`,
    `complete -c ${program.name} -f`,
    ...program.options.map((o) => fishOption(program.name, null, o)),
  ];
  for (const c of program.commands) {
    lines.push(`complete -c ${program.name} -n __fish_use_subcommand -a ${c.name} -d ${fishText(c.description)}`);
    const seen = `__fish_seen_subcommand_from ${c.name}`;
    for (const o of c.options) lines.push(fishOption(program.name, seen, o));
    const choices = argumentChoices(c);
    if (choices.length) lines.push(`complete -c ${program.name} -n ${fishText(seen)} -a ${fishText(choices.join(' '))}`);
  }
  return `${lines.join('\n')}\n`;
}
