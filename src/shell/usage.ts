import type { Argument, Command, CommanderError, Option } from 'commander';
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
      // Said by the CLI, from the error thrown below: on stderr, and under --json as an error event too.
      .configureOutput({ outputError: () => {} })
      .exitOverride((err) => {
        // --help and --version end here as well (exit 0): they are not errors.
        if (err.exitCode === 0) throw err;
        throw commanderError(err, command);
      });
    for (const option of command.options) {
      nameValueErrors(option, option.long ?? option.short ?? option.flags, command);
      refuseRepeats(option, command);
    }
    for (const argument of command.registeredArguments) nameValueErrors(argument, argument.name(), command);
  }
  // Once the whole command line is read, before the command runs.
  program.hook('preAction', (_program, command) => checkRelations(command));
}

// ---------------------------------------------------------------------------------------------
// Options that would do nothing. An option given twice keeps only its last value in commander,
// and an option of one mode (--duration of --stream) is ignored in another: both are refused, so
// a command line means what it says. Declared where the option is made, checked here for all.

/** Options whose values add up when repeated (-H, --type, --pin). */
const REPEATABLE = new WeakSet<Option>();

interface Relations {
  /** Flags as typed (`--stream`): the option means something only with one of them. */
  needs: string[];
  /** Flags (global ones too, such as `--json`) it means nothing with. */
  notWith: string[];
}

const RELATIONS = new WeakMap<Option, Relations>();

/** An option that may be given again, each value added to the others. */
export function repeatable(option: Option): Option {
  REPEATABLE.add(option);
  return option;
}

/** An option that means something only together with one of `flags` (`--duration` with `--stream`). */
export function needs(option: Option, ...flags: string[]): Option {
  RELATIONS.set(option, { needs: flags, notWith: RELATIONS.get(option)?.notWith ?? [] });
  return option;
}

/**
 * An option that means nothing with any of `flags`, which may be global options (`--chart` with
 * `--json`); between options of one command, commander's own conflicts() says the same.
 */
export function notWith(option: Option, ...flags: string[]): Option {
  RELATIONS.set(option, { needs: RELATIONS.get(option)?.needs ?? [], notWith: flags });
  return option;
}

/** The option a flag names on the command or above it, and whether it was typed. */
function typed(command: Command, flag: string): boolean {
  for (let c: Command | null = command; c; c = c.parent) {
    const option = c.options.find((o) => o.long === flag || o.short === flag);
    if (option) return c.getOptionValueSource(option.attributeName()) === 'cli';
  }
  throw new Error(`no option ${flag} on ${commandPath(command)}`);
}

/** `--a, --b or --c`. */
export const either = (flags: string[]) => flags.join(', ').replace(/, ([^,]*)$/, ' or $1');

function checkRelations(command: Command): void {
  for (const option of command.options) {
    const relations = RELATIONS.get(option);
    if (!relations || command.getOptionValueSource(option.attributeName()) !== 'cli') continue;
    const flag = option.long ?? option.short!;
    if (relations.needs.length > 0 && !relations.needs.some((other) => typed(command, other))) {
      throw new NetnoteError('usage', `${flag} needs ${either(relations.needs)}: without it, ${flag} does nothing`, helpHint(command));
    }
    const clash = relations.notWith.find((other) => typed(command, other));
    if (clash) throw new NetnoteError('usage', `${flag} does nothing with ${clash}: drop one of them`, helpHint(command));
  }
}

/** A second value for an option that takes one is refused: commander would keep only the last. */
function refuseRepeats(option: Option, command: Command): void {
  if (!(option.required || option.optional) || option.variadic || REPEATABLE.has(option)) return;
  let seen = 0;
  command.on(`option:${option.name()}`, () => {
    if (++seen === 2) throw new NetnoteError('usage', `${option.long ?? option.short} given twice: give it once`, helpHint(command));
  });
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
    // `<ip[:port]>` is a required value that commander also calls optional, for its brackets.
    for (const option of command.options) if (option.optional && !option.required && option.long) optional.set(option.long, option);
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

/** Commander's own errors (unknown option, missing argument…) in netnote's words: a usage error and its hint. */
function commanderError(err: CommanderError, command: Command): NetnoteError {
  // Commander printed the help instead of running nothing (`netnote` alone).
  if (err.code === 'commander.help') return new NetnoteError('usage', 'no command given', helpHint(command));
  let message = err.message.trimEnd().replace(/^error: /, '');
  const suggestion = DID_YOU_MEAN.exec(message);
  if (suggestion) message = message.slice(0, suggestion.index);
  return new NetnoteError('usage', message.replace(/\n/g, ' '), `${suggestion ? `did you mean ${suggestion[1]}? ` : ''}${helpHint(command)}`);
}
