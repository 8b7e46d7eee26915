import type { Argument, Command, Option } from 'commander';
import { InvalidValueError, NetnoteError } from '../core/errors.js';

// The command line's conventions, applied to the whole commander tree once every command is
// registered, so a command added later follows them without doing anything: every error line
// starts `netnote:`, the hint names the command's own --help, a bad value names the option it was
// given to, and every command's --help lists the global options too.

/** `netnote`, `netnote tcp-client`: how a person types the command. */
function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** The command and every command below it. */
function commandTree(command: Command): Command[] {
  return [command, ...command.commands.flatMap(commandTree)];
}

export function applyConventions(program: Command): void {
  for (const command of commandTree(program)) {
    command
      .configureHelp({ ...command.configureHelp(), showGlobalOptions: true })
      .showHelpAfterError(false)
      .configureOutput({ outputError: (text, write) => write(commanderError(text, command)) });
    for (const option of command.options) nameValueErrors(option, option.long ?? option.short ?? option.flags, command);
    for (const argument of command.registeredArguments) nameValueErrors(argument, argument.name(), command);
  }
}

/** `try 'netnote tcp-client --help'`. */
function helpHint(command: Command): string {
  return `try '${commandPath(command)} --help'`;
}

/**
 * A bad value is said as `invalid --interval 'abc': use a duration such as …`, naming the option
 * (or argument) the person typed it for. Thrown as a NetnoteError: commander would put its own
 * sentence in front of an InvalidArgumentError's.
 */
function nameValueErrors(target: Option | Argument, label: string, command: Command): void {
  const parse = target.parseArg;
  if (!parse) return;
  target.parseArg = <T>(value: string, previous: T): T => {
    try {
      return parse(value, previous);
    } catch (err) {
      if (err instanceof NetnoteError && !(err instanceof InvalidValueError)) throw new NetnoteError(err.code, err.message, err.hint ?? helpHint(command));
      const reason = err instanceof InvalidValueError ? err.reason
        : target.argChoices ? `use ${target.argChoices.join(', ').replace(/, ([^,]*)$/, ' or $1')}`
          : err instanceof Error ? err.message : String(err);
      const input = err instanceof InvalidValueError ? err.input : value;
      throw new NetnoteError('usage', `invalid ${label} '${input}': ${reason}`, helpHint(command));
    }
  };
}

/**
 * An option whose value is optional (`--reconnect [attempts]`, `--timestamps [format]`) takes the
 * next word only when it is a value the option accepts: `netnote --timestamps tcp-client …` and
 * `tcp-client --reconnect 127.0.0.1 8080` mean the flag alone, as a person means them. Commander
 * takes the next word whatever it is, so such a flag is moved after the other words (before any
 * `--`), where it takes none.
 */
export function optionalValuesFirst(program: Command, args: string[]): string[] {
  const optional = new Map<string, Option>();
  for (const command of commandTree(program)) {
    for (const option of command.options) if (option.optional && option.long) optional.set(option.long, option);
  }
  const end = args.indexOf('--');
  const words = end < 0 ? args : args.slice(0, end);
  const kept: string[] = [];
  const moved: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const option = optional.get(words[i]!);
    const next = words[i + 1];
    if (option && next !== undefined && !next.startsWith('-') && !accepts(option, next)) moved.push(words[i]!);
    else kept.push(words[i]!);
  }
  return [...kept, ...moved, ...(end < 0 ? [] : args.slice(end))];
}

function accepts(option: Option, word: string): boolean {
  if (option.argChoices) return option.argChoices.includes(word);
  if (!option.parseArg) return true;
  try {
    option.parseArg(word, undefined);
    return true;
  } catch {
    return false;
  }
}

const DID_YOU_MEAN = /\n\(Did you mean (?:one of )?(.+)\?\)$/;

/** Commander's own errors (unknown option, missing argument…) as netnote's two lines. */
function commanderError(text: string, command: Command): string {
  let message = text.trimEnd().replace(/^error: /, '');
  const suggestion = DID_YOU_MEAN.exec(message);
  if (suggestion) message = message.slice(0, suggestion.index);
  const hint = `${suggestion ? `did you mean ${suggestion[1]}? ` : ''}${helpHint(command)}`;
  return `${message.split('\n').map((line) => `netnote: ${line}`).join('\n')}\nnetnote: hint: ${hint}\n`;
}
