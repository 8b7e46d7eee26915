import type { EventSink } from '../core/events.js';
import { HumanReporter } from './human.js';
import { JsonReporter } from './json.js';
import { LineWriter } from './writer.js';

/** A sink for core events that also owns the output streams. */
export interface Reporter extends EventSink {
  /** Flushes everything written so far; called once before the process exits. */
  close(): void;
}

export interface OutputOptions {
  json: boolean;
  quiet: boolean;
  color: boolean;
  hexDump: boolean;
}

export function createReporter(options: OutputOptions): Reporter {
  const out = new LineWriter(process.stdout);
  if (options.json) return new JsonReporter(out, options.quiet);
  const interactive = process.stderr.isTTY === true && (process.stderr.columns ?? 0) > 0;
  return new HumanReporter({
    out,
    err: new LineWriter(process.stderr),
    color: options.color && process.stdout.isTTY === true && !process.env.NO_COLOR,
    quiet: options.quiet,
    hexDump: options.hexDump,
    spinner: interactive && !options.quiet,
  });
}
