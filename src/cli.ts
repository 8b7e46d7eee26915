import { CommanderError } from 'commander';
import { NetnoteError } from './core/errors.js';
import type { Execute, RunContext } from './commands/context.js';
import { createProgram } from './program.js';
import { optionalValuesFirst } from './shell/usage.js';
import { createReporter } from './report/create.js';
import { RunFiles } from './report/run/outputs.js';
import type { OutputOptions, Reporter } from './report/reporter.js';
import type { TimestampFormat } from './report/stamp.js';

/** The error's line on stderr, and its hint's. */
function errorLines(error: NetnoteError): string {
  return `netnote: ${error.message}\n${error.hint ? `netnote: hint: ${error.hint}\n` : ''}`;
}

const execute: Execute = async (command, role, action, { checks = [], ...style } = {}) => {
  const globals = command.optsWithGlobals() as {
    json?: boolean; quiet?: boolean; color: boolean; hexDump?: boolean; report?: string; junit?: string; timestamps?: TimestampFormat; log?: string;
  };
  const output: OutputOptions = {
    json: globals.json === true, quiet: globals.quiet === true, color: globals.color, hexDump: globals.hexDump === true,
    ...(globals.timestamps ? { timestamps: globals.timestamps } : {}), ...(globals.log === undefined ? {} : { log: globals.log }), ...style,
  };
  let files: RunFiles | null;
  let base: Reporter;
  try {
    files = await RunFiles.open(command.name(), globals);
    base = createReporter(output);
  } catch (err) {
    process.stderr.write(errorLines(err as NetnoteError));
    process.exit((err as NetnoteError).exitCode);
  }
  const reporter = files ? files.tee(base, role, checks) : base;
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(130); // a second Ctrl-C does not wait
    controller.abort(name);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let summarized = false;
  const context: RunContext = {
    reporter,
    signal: controller.signal,
    finish(summaries, runError) {
      summarized = true;
      // The files first: one that cannot be written is the run's error when nothing else is, and
      // the summary's exit code must be the process's.
      const fileError = files?.write(summaries, runError, checks) ?? reporter.unwritable?.() ?? null;
      if (fileError && runError) unwritten = fileError;
      const error = runError ?? fileError;
      for (const summary of summaries) reporter.emit({ event: 'summary', ...summary, exitCode: error?.exitCode ?? 0, error: error?.info ?? null });
      if (error) throw error;
    },
  };
  /** A file that could not be written while the run had failed anyway: said too, the run's exit code kept. */
  let unwritten: NetnoteError | null = null;
  let failure = '';
  let exitCode = 0;
  try {
    await action(context);
    // A command with nothing to summarise (report): its files still say how it went.
    if (!summarized) {
      const fileError = files?.write([], null, checks) ?? null;
      if (fileError) throw fileError;
    }
  } catch (err) {
    const error = err instanceof NetnoteError ? err : new NetnoteError('internal', `internal error: ${err instanceof Error ? err.stack : String(err)}`,
      'this is a bug in netnote: please report it with the command line that caused it');
    exitCode = error.exitCode;
    if (!summarized) {
      reporter.emit({ event: 'error', role, ...error.info, exitCode });
      unwritten = files?.write([], error, checks) ?? null;
    }
    failure = errorLines(error);
  }
  if (unwritten) failure = `${errorLines(unwritten)}${failure}`;
  // stdout first, so a terminal or a 2>&1 log shows the summary before the final error line.
  reporter.close(failure);
  // A pipe takes writes synchronously only until it is full; exit once stdout has drained.
  process.stdout.write('', () => process.exit(exitCode));
};

// No top-level await: the standalone executable is bundled as CommonJS.
const program = createProgram(execute);
// The words a person typed, found as commander finds them (`node -e CODE ARGS…` has no script name).
const evaluated = process.execArgv.some((arg) => ['-e', '--eval', '-p', '--print'].includes(arg));
program.parseAsync(optionalValuesFirst(program, process.argv.slice(evaluated ? 1 : 2)), { from: 'user' }).catch((err: unknown) => {
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
  // A bad value in the command line, said in our words (shell/usage.ts).
  if (!(err instanceof NetnoteError)) throw err;
  process.stderr.write(errorLines(err));
  process.exit(err.exitCode);
});
