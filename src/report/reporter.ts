import type { NetnoteError } from '../core/errors.js';
import type { EventSink } from '../core/events.js';
import type { ReportEvent } from '../core/summary.js';
import type { LogFile } from './log-file.js';
import type { TimestampFormat } from './stamp.js';

/** A sink for core events that also owns the output streams. */
export interface Reporter extends EventSink {
  /** The core's events, and the run's summaries after them (the CLI's). */
  emit(event: ReportEvent): void;
  /**
   * Flushes everything written so far, then writes `failure` (the run's final `netnote:` lines)
   * on stderr, and to --log; called once before the process exits.
   */
  close(failure?: string): void;
  /** A --log that could not be written: the run's error when it has none. */
  unwritable?(): NetnoteError | null;
}

export interface OutputOptions {
  json: boolean;
  quiet: boolean;
  color: boolean;
  hexDump: boolean;
  /** 'note-http': the untagged lines of the note's raw HTTP experiment. */
  style?: 'note-http';
  /** No human lines on stdout (http-get --body-only puts the body there; report has none). */
  silent?: boolean;
  /** The RTT chart in the summary: asked for (--chart), on a terminal only (--ping), or not. */
  chart?: 'always' | 'terminal';
  /** --timestamps: every human line starts with one. */
  timestamps?: TimestampFormat;
  /** --log FILE, opened: the human lines, stamped, also appended there. */
  log?: LogFile;
}
