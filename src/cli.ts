import { CommanderError, type Command } from 'commander';
import { NetnoteError, outputError } from './core/errors.js';
import type { Role } from './core/events.js';
import type { Summary } from './core/summary.js';
import type { Execute, RunContext } from './commands/context.js';
import { createProgram } from './program.js';
import { optionalValuesFirst } from './shell/usage.js';
import { createReporter } from './report/create.js';
import { printable } from './report/printable.js';
import { RunFiles } from './report/run/outputs.js';
import { LogFile } from './report/log-file.js';
import type { OutputOptions } from './report/reporter.js';
import type { TimestampFormat } from './report/stamp.js';

/** The error's line on stderr, and its hint's: one line each, whatever the message quotes. */
function errorLines(error: NetnoteError): string {
  return `netnote: ${printable(error.message)}\n${error.hint ? `netnote: hint: ${printable(error.hint)}\n` : ''}`;
}

/** Whatever was thrown, as the error the run ends with: anything but a NetnoteError is a bug. */
function asNetnoteError(err: unknown): NetnoteError {
  if (err instanceof NetnoteError) return err;
  return new NetnoteError('internal', `internal error: ${err instanceof Error ? err.stack : String(err)}`,
    'this is a bug in netnote: please report it with the command line that caused it');
}

// Signals end a run the same way on every command: the run stops, its summary is printed, and
// the exit code is 128 + the signal's number, as a shell reports it (README, Signals).
const SIGNALS: Record<'SIGINT' | 'SIGTERM' | 'SIGHUP', () => NetnoteError> = {
  SIGINT: () => new NetnoteError('interrupted', 'interrupted'),
  SIGTERM: () => new NetnoteError('terminated', 'terminated (SIGTERM)'),
  SIGHUP: () => new NetnoteError('hangup', 'hung up (SIGHUP)'),
};
/** What a signal does now: before a run (and after it), exit at once with the signal's code. */
let onSignal = (stop: NetnoteError): void => process.exit(stop.exitCode);
for (const [name, stop] of Object.entries(SIGNALS)) process.on(name, () => onSignal(stop()));

// stdout that cannot be written (a full disk, /dev/full, EIO) is an error of its own, exit 8;
// EPIPE is a reader that took what it wanted (`| head`): a quiet stop, nothing more is written.
let stdoutFailure: NetnoteError | null = null;
/** Stops the run in progress, if any: its output is lost. */
let stopRun: ((error: NetnoteError) => void) | null = null;

function onStdoutError(err: NodeJS.ErrnoException): void {
  if (stdoutFailure || err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') return;
  stdoutFailure = outputError('stdout', err);
  stopRun?.(stdoutFailure);
}
process.stdout.on('error', onStdoutError);
// stderr is where errors are said: when it cannot be written, nothing is left to say it with.
process.stderr.on('error', () => {});

/** Resolves once what was written to stdout has been taken by the pipe, the file or the terminal. */
function stdoutDrained(): Promise<void> {
  return new Promise((resolve) => process.stdout.write('', (err) => {
    if (err) onStdoutError(err);
    resolve();
  }));
}

/**
 * Exits once stdout has drained, `said` being the error lines already on stderr. A stdout that
 * failed is said too, unless it was, and is the exit code when nothing else had failed.
 */
async function exitWhenWritten(exitCode: number, said: string): Promise<never> {
  await stdoutDrained();
  let code = exitCode;
  if (stdoutFailure && !said.includes(errorLines(stdoutFailure))) {
    process.stderr.write(errorLines(stdoutFailure));
    if (code === 0) code = stdoutFailure.exitCode;
  }
  process.exit(code);
}

/** A run that cannot start: its error said, and under --json its error event. */
function cannotRun(error: NetnoteError, role: Role, json: boolean): Promise<never> {
  if (json) {
    const reporter = createReporter({ json: true, quiet: false, color: false, hexDump: false });
    reporter.emit({ event: 'error', role, ...error.info, exitCode: error.exitCode });
    reporter.close();
  }
  process.stderr.write(errorLines(error));
  return exitWhenWritten(error.exitCode, errorLines(error));
}

const execute: Execute = async (command, role, action, { checks = [], ...style } = {}) => {
  const globals = command.optsWithGlobals() as {
    json?: boolean; quiet?: boolean; color: boolean; hexDump?: boolean; report?: string; junit?: string; timestamps?: TimestampFormat; log?: string;
  };
  const output: OutputOptions = {
    json: globals.json === true, quiet: globals.quiet === true, color: globals.color, hexDump: globals.hexDump === true,
    ...(globals.timestamps ? { timestamps: globals.timestamps } : {}), ...style,
  };
  const controller = new AbortController();
  stopRun = (error) => {
    if (!controller.signal.aborted) controller.abort(error);
  };
  if (stdoutFailure) stopRun(stdoutFailure);
  onSignal = (stop) => {
    // A second signal does not wait for the summary.
    if (controller.signal.aborted) process.exit(stop.exitCode);
    controller.abort(stop);
  };
  /** The core ends any run stopped from outside as `interrupted` (`while connecting`…): say what stopped it. */
  const stoppedAs = (error: NetnoteError): NetnoteError => {
    const stop = controller.signal.aborted ? (controller.signal.reason as NetnoteError) : null;
    if (!stop || error.code !== 'interrupted') return error;
    return stop.code === 'output' ? stop : new NetnoteError(stop.code, error.message.replace(/^interrupted/, stop.message), error.hint);
  };

  // --log first: the reporter writes there from its first line. A FIFO waits for its reader.
  try {
    if (globals.log !== undefined) output.log = await LogFile.open(globals.log, controller.signal);
  } catch (err) {
    return cannotRun(stoppedAs(asNetnoteError(err)), role, output.json);
  }
  const screen = createReporter(output);

  let files: RunFiles | null;
  try {
    files = await RunFiles.open(command.name(), globals, controller.signal);
  } catch (err) {
    const error = stoppedAs(asNetnoteError(err));
    screen.emit({ event: 'error', role, ...error.info, exitCode: error.exitCode });
    screen.close(errorLines(error));
    return exitWhenWritten(error.exitCode, errorLines(error));
  }
  const reporter = files ? files.tee(screen, role, checks) : screen;

  let outcome: { summaries: Summary[]; error: NetnoteError | null } = { summaries: [], error: null };
  const context: RunContext = {
    reporter,
    signal: controller.signal,
    finish(summaries, runError) {
      outcome = { summaries, error: runError === null ? null : asNetnoteError(runError) };
    },
  };
  let error: NetnoteError | null;
  try {
    await action(context);
    error = outcome.error;
  } catch (err) {
    error = asNetnoteError(err);
  }
  if (error) error = stoppedAs(error);

  // What the run printed is out before the summary is written: a stdout that failed in the
  // meantime is the exit code the summary carries, in every file too.
  screen.close();
  await stdoutDrained();
  error ??= stdoutFailure;
  // A run that ends before its summary ends with its error event, which the files record too.
  const errorEvent = (e: NetnoteError) => reporter.emit({ event: 'error', role, ...e.info, exitCode: e.exitCode });
  if (outcome.summaries.length === 0 && error) errorEvent(error);
  const fileError = files?.write(outcome.summaries, error, checks) ?? reporter.unwritable?.() ?? null;
  // A file that could not be written while the run had failed anyway: said too, the run's exit code kept.
  const unwritten = error ? fileError : null;
  if (!error && fileError) {
    error = fileError;
    if (outcome.summaries.length === 0) errorEvent(error);
  }
  const exitCode = error?.exitCode ?? 0;
  for (const summary of outcome.summaries) reporter.emit({ event: 'summary', ...summary, exitCode, error: error?.info ?? null });
  // stdout first, so a terminal or a 2>&1 log shows the summary before the final error line.
  const failure = `${unwritten ? errorLines(unwritten) : ''}${error ? errorLines(error) : ''}`;
  reporter.close(failure);
  return exitWhenWritten(exitCode, failure);
};

const program = createProgram(execute);
/** The command whose options are being read: its role tags the error event of a bad command line. */
let parsing: Command = program;
program.hook('preSubcommand', (_program, command) => {
  parsing = command;
});

/** Servers' events are the server's; every other command is a client of something. */
function roleOf(command: Command): Role {
  return command.name().endsWith('-server') ? 'server' : 'client';
}

// The words a person typed, found as commander finds them (`node -e CODE ARGS…` has no script name).
const evaluated = process.execArgv.some((arg) => ['-e', '--eval', '-p', '--print'].includes(arg));
// No top-level await: the standalone executable is bundled as CommonJS. A command that is not
// a run (help, completion) returns here; a run exits from execute.
program.parseAsync(optionalValuesFirst(program, process.argv.slice(evaluated ? 1 : 2)), { from: 'user' }).then(() => exitWhenWritten(0, ''), (err: unknown) => {
  // --help, --version: shown; a command line that cannot be run: said (shell/usage.ts), exit 2.
  if (err instanceof CommanderError) return exitWhenWritten(err.exitCode === 0 ? 0 : 2, '');
  // Under --json, a command line that cannot be run still ends the stream with its error event.
  return cannotRun(asNetnoteError(err), roleOf(parsing), (program.opts() as { json?: boolean }).json === true);
});
