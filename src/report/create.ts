import { HumanReporter } from './human.js';
import { JsonReporter } from './json.js';
import { NoteHttpReporter } from './note-http.js';
import type { OutputOptions, Reporter } from './reporter.js';
import { LineWriter } from './writer.js';

const SILENT: Reporter = { messages: false, emit() {}, room: () => null, close() {} };

export function createReporter(options: OutputOptions): Reporter {
  if (options.silent) return SILENT;
  const out = new LineWriter(process.stdout);
  if (options.json) return new JsonReporter(out, options.quiet);
  const interactive = process.stderr.isTTY === true && (process.stderr.columns ?? 0) > 0;
  const Human = options.style === 'note-http' ? NoteHttpReporter : HumanReporter;
  return new Human({
    out,
    err: new LineWriter(process.stderr),
    color: options.color && process.stdout.isTTY === true && !process.env.NO_COLOR,
    quiet: options.quiet,
    hexDump: options.hexDump,
    spinner: interactive && !options.quiet,
    chart: process.stdout.isTTY === true,
  });
}
