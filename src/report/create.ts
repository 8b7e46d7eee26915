import { supportsColor } from 'chalk';
import type { NetnoteError } from '../core/errors.js';
import { HumanReporter, type HumanOptions } from './human.js';
import { JsonReporter } from './json.js';
import { NoteHttpReporter } from './note-http.js';
import { printableStrings } from './printable.js';
import type { ReportEvent } from '../core/summary.js';
import type { OutputOptions, Reporter } from './reporter.js';
import { stamped, timestamp, type TimestampFormat } from './stamp.js';
import { symbolsFor } from './symbols.js';
import { LineWriter, type LineSink } from './writer.js';

/** Columns of a chart written to a file or a pipe. */
const DEFAULT_WIDTH = 80;

const SILENT: Reporter = { messages: false, emit() {}, room: () => null, close() {} };

/**
 * The reporter a run writes to: human lines or NDJSON on stdout (or nothing: http-get
 * --body-only), each human line stamped with --timestamps, and with --log the human lines also
 * appended to a file (opened by the CLI before the run), whatever stdout shows.
 */
export function createReporter(options: OutputOptions): Reporter {
  const stamp = options.timestamps ?? null;
  // --json always says how a run ended: a command silent on a terminal (report) still has its error event.
  const main = options.silent && !options.json ? SILENT : options.json ? new JsonReporter(new LineWriter(process.stdout), options.quiet) : human(options, {
    out: withStamp(new LineWriter(process.stdout), stamp),
    err: withStamp(new LineWriter(process.stderr), stamp),
    // chalk's own detection (a terminal, FORCE_COLOR for CI logs, none for TERM=dumb), and the
    // NO_COLOR convention, which chalk leaves to its users.
    color: options.color && supportsColor !== false && supportsColor.level > 0 && !process.env.NO_COLOR,
    spinner: process.stderr.isTTY === true && (process.stderr.columns ?? 0) > 0 && !options.quiet,
    chart: options.chart === 'always' || (options.chart === 'terminal' && process.stdout.isTTY === true),
    width: process.stdout.columns || Number(process.env.COLUMNS) || DEFAULT_WIDTH,
  });
  const file = options.log ?? null;
  const log = file && human(options, {
    out: stamped(file, stamp ?? 'iso'), err: stamped(file, stamp ?? 'iso'), color: false, spinner: false,
    chart: options.chart === 'always', width: DEFAULT_WIDTH,
  });
  return {
    messages: main.messages || (log?.messages ?? false),
    emit(e) {
      main.emit(e);
      log?.emit(e);
    },
    room: () => main.room(),
    // Called again if a run's output is flushed before its summary: the log stays open until the exit.
    close(failure = '') {
      main.close();
      log?.close();
      // The final `netnote:` lines, stamped too, and kept in the log with the rest.
      for (const line of failure.split('\n').filter(Boolean)) {
        process.stderr.write(`${stamp ? `${timestamp(stamp)} ` : ''}${line}\n`);
        file?.write(`${timestamp(stamp ?? 'iso')} ${line}`);
      }
    },
    unwritable: (): NetnoteError | null => file?.failure ?? null,
  };
}

function withStamp(sink: LineSink, format: TimestampFormat | null): LineSink {
  return format ? stamped(sink, format) : sink;
}

function human(options: OutputOptions, where: Pick<HumanOptions, 'out' | 'err' | 'color' | 'spinner' | 'chart' | 'width'>): Reporter {
  const Human = options.style === 'note-http' ? NoteHttpReporter : HumanReporter;
  return printableLines(new Human({ ...where, quiet: options.quiet, hexDump: options.hexDump, symbols: symbolsFor(process.env) }));
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
