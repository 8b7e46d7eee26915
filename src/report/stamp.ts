import type { LineSink } from './writer.js';

/** --timestamps: `iso` (the wall clock, UTC, as --json's `time`) or `elapsed` (seconds since netnote started). */
export type TimestampFormat = 'iso' | 'elapsed';

/** The stamp of a line written now. */
export function timestamp(format: TimestampFormat): string {
  // performance.now() counts from the process's start.
  return format === 'iso' ? new Date().toISOString() : `+${(performance.now() / 1000).toFixed(3)}s`;
}

/** Each line prefixed with the time it was written and a space, the line itself unchanged. */
export function stamped(sink: LineSink, format: TimestampFormat): LineSink {
  return {
    write: (line) => sink.write(`${timestamp(format)} ${line}`),
    room: () => sink.room(),
    flush: () => sink.flush(),
  };
}
