import type { EventEmitter } from 'node:events';
import type { Command, Option } from 'commander';

// The commander tree as plain data, for what is generated from it (completion scripts, the man
// page): a command added on any branch shows up in both without anyone editing them.

export interface OptionSpec {
  short: string | null;
  long: string | null;
  /** The value's name (`n`, `duration`, `path`), or null for a flag. */
  value: string | null;
  /** The values it accepts when they are a fixed set (`GET`, `HEAD`). */
  choices: string[] | null;
  /** A file name is expected (`--file <path>`, `-o, --output <file>`). */
  file: boolean;
  description: string;
  /** Default as help shows it, or null. */
  default: string | null;
  flags: string;
}

export interface ArgumentSpec {
  name: string;
  choices: string[] | null;
  description: string;
  default: string | null;
}

export interface CommandSpec {
  name: string;
  usage: string;
  description: string;
  arguments: ArgumentSpec[];
  options: OptionSpec[];
  /** The text added after the command's help (notes and `Examples:`). */
  after: string;
}

export interface ProgramSpec {
  name: string;
  description: string;
  /** The global options, --help and --version included. */
  options: OptionSpec[];
  commands: CommandSpec[];
  after: string;
}

const HELP_OPTION: OptionSpec = {
  short: '-h', long: '--help', value: null, choices: null, file: false, description: 'show help for the command', default: null, flags: '-h, --help',
};

function optionSpec(option: Option): OptionSpec {
  const value = /[<[]([^>\]]+)[>\]]/.exec(option.flags)?.[1] ?? null;
  const shown = option.defaultValueDescription ?? (option.defaultValue === undefined || typeof option.defaultValue === 'boolean' ? undefined : JSON.stringify(option.defaultValue));
  return {
    short: option.short ?? null,
    long: option.long ?? null,
    value,
    choices: option.argChoices ? [...option.argChoices] : null,
    file: value !== null && /^(path|file)$/.test(value),
    description: option.description,
    default: value === null ? null : shown ?? null,
    flags: option.flags,
  };
}

/** The texts passed to addHelpText('after', …): commander keeps them as listeners of its events. */
function afterText(command: Command): string {
  const parts: string[] = [];
  for (const listener of (command as unknown as EventEmitter).listeners('afterHelp')) {
    (listener as (context: { write(text: string): void; command: Command; error: boolean }) => void)({ write: (text) => parts.push(text), command, error: false });
  }
  return parts.join('').trim();
}

export function describeProgram(program: Command): ProgramSpec {
  return {
    name: program.name(),
    description: program.description(),
    options: [...program.options.filter((o) => !o.hidden).map(optionSpec), HELP_OPTION],
    after: afterText(program),
    commands: program.commands.map((command) => ({
      name: command.name(),
      usage: command.usage(),
      description: command.description(),
      arguments: command.registeredArguments.map((a) => ({
        name: a.name(), choices: a.argChoices ? [...a.argChoices] : null, description: a.description,
        default: a.defaultValueDescription ?? (a.defaultValue === undefined ? null : String(a.defaultValue)),
      })),
      options: command.options.filter((o) => !o.hidden).map(optionSpec),
      after: afterText(command),
    })),
  };
}
