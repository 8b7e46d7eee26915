import { supportsColor } from 'chalk';
import { HumanReporter } from './human.js';
import { JsonReporter } from './json.js';
import { NoteHttpReporter } from './note-http.js';
import { printableStrings } from './printable.js';
import type { ReportEvent } from '../core/summary.js';
import type { OutputOptions, Reporter } from './reporter.js';
import { symbolsFor } from './symbols.js';
import { LineWriter } from './writer.js';

/** Columns of a chart written to a file or a pipe. */
const DEFAULT_WIDTH = 80;

const SILENT: Reporter = { messages: false, emit() {}, room: () => null, close() {} };

export function createReporter(options: OutputOptions): Reporter {
  // --json always says how a run ended: a command silent on a terminal (report) still has its error event.
  if (options.silent && !options.json) return SILENT;
  const out = new LineWriter(process.stdout);
  if (options.json) return new JsonReporter(out, options.quiet);
  const interactive = process.stderr.isTTY === true && (process.stderr.columns ?? 0) > 0;
  const Human = options.style === 'note-http' ? NoteHttpReporter : HumanReporter;
  return printableLines(new Human({
    out,
    err: new LineWriter(process.stderr),
    // chalk's own detection (a terminal, FORCE_COLOR for CI logs, none for TERM=dumb), and the
    // NO_COLOR convention, which chalk leaves to its users.
    color: options.color && supportsColor !== false && supportsColor.level > 0 && !process.env.NO_COLOR,
    quiet: options.quiet,
    hexDump: options.hexDump,
    spinner: interactive && !options.quiet,
    chart: options.chart === 'always' || (options.chart === 'terminal' && process.stdout.isTTY === true),
    width: process.stdout.columns || Number(process.env.COLUMNS) || DEFAULT_WIDTH,
    symbols: symbolsFor(process.env),
  }));
}

/**
 * Events whose strings are all netnote's own or the kernel's (addresses, names of events and
 * reasons): the per-message ones among them are the hot path, which pays for no walk. Any other
 * event, a new one too, is walked.
 */
const OWN_STRINGS = new Set<ReportEvent['event']>(['created', 'bound', 'listening', 'connecting', 'connected', 'accepted', 'rejected', 'send', 'recv', 'no-reply', 'round', 'closed', 'interval']);

/** Every string an event carries, shown with its control characters escaped (printable.ts). */
function printableLines(human: Reporter): Reporter {
  return {
    messages: human.messages,
    emit: (e) => human.emit(OWN_STRINGS.has(e.event) ? e : printableStrings(e)),
    room: () => human.room(),
    close: () => human.close(),
  };
}
