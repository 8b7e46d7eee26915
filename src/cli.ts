import { Command, CommanderError } from 'commander';
import { NetnoteError } from './core/errors.js';
import type { Execute, RunContext } from './commands/context.js';
import { registerDemo } from './commands/demo.js';
import { registerHttpGet } from './commands/http-get.js';
import { registerInterfaces } from './commands/interfaces.js';
import { registerResolve } from './commands/resolve.js';
import { registerTcpClient } from './commands/tcp-client.js';
import { registerTcpServer } from './commands/tcp-server.js';
import { registerUdpClient } from './commands/udp-client.js';
import { registerUdpServer } from './commands/udp-server.js';
import { createReporter } from './report/create.js';
import type { OutputOptions } from './report/reporter.js';
import { VERSION } from './version.js';


/** Exit code for a bug: not in the documented table on purpose. */
const INTERNAL_ERROR = 70;

const program = new Command('netnote')
  .description("TCP/UDP test tool: the note's experiments as commands, with exit codes and JSON for scripts")
  .version(VERSION, '-V, --version')
  .option('--json', 'one JSON object per event on stdout (NDJSON, schema in docs/json.md)')
  .option('-q, --quiet', 'no per-message lines: connection events and the summary only')
  .option('--no-color', 'no colour, even on a terminal (NO_COLOR works too)')
  .option('--hex-dump', 'show payloads as a hex dump instead of bytes literals')
  .showHelpAfterError('netnote: hint: add --help for usage')
  .configureOutput({ outputError: (text, write) => write(text.replace(/^error: /, 'netnote: ')) })
  .exitOverride()
  .addHelpText('after', `
Exit codes: 0 ok, 1 assertion failed, 2 usage, 3 name resolution, 4 refused/unreachable
(TLS: certificate or handshake refused), 5 timeout, 6 connection lost, 7 local bind failed,
130 interrupted.`);

const execute: Execute = async (command, role, action, style) => {
  const globals = command.optsWithGlobals() as { json?: boolean; quiet?: boolean; color: boolean; hexDump?: boolean };
  const output: OutputOptions = { json: globals.json === true, quiet: globals.quiet === true, color: globals.color, hexDump: globals.hexDump === true, ...style };
  const reporter = createReporter(output);
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
    finish(summaries, error) {
      summarized = true;
      for (const summary of summaries) reporter.emit({ event: 'summary', ...summary, exitCode: error?.exitCode ?? 0, error: error?.info ?? null });
      if (error) throw error;
    },
  };
  let failure = '';
  let exitCode = 0;
  try {
    await action(context);
  } catch (err) {
    const error = err instanceof NetnoteError ? err : null;
    exitCode = error?.exitCode ?? INTERNAL_ERROR;
    const message = error?.message ?? `internal error: ${err instanceof Error ? err.stack : String(err)}`;
    if (!summarized) reporter.emit({ event: 'error', role, code: error?.code ?? 'lost', message, ...(error?.hint ? { hint: error.hint } : {}), exitCode });
    failure = `netnote: ${message}\n${error?.hint ? `netnote: hint: ${error.hint}\n` : ''}`;
  }
  // stdout first, so a terminal or a 2>&1 log shows the summary before the final error line.
  reporter.close();
  process.stderr.write(failure);
  // A pipe takes writes synchronously only until it is full; exit once stdout has drained.
  process.stdout.write('', () => process.exit(exitCode));
};

registerTcpServer(program, execute);
registerTcpClient(program, execute);
registerUdpServer(program, execute);
registerUdpClient(program, execute);
registerHttpGet(program, execute);
registerResolve(program, execute);
registerInterfaces(program, execute);
registerDemo(program, execute);

// No top-level await: the standalone executable is bundled as CommonJS.
program.parseAsync().catch((err: unknown) => {
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
  throw err;
});
