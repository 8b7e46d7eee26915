import type { Command } from 'commander';
import { NetnoteError } from '../core/errors.js';
import type { Role } from '../core/events.js';
import type { Summary } from '../core/summary.js';
import type { ServerSummary } from '../core/tcp/server.js';
import type { UdpServerSummary } from '../core/udp/server.js';
import type { Check } from '../report/junit/checks.js';
import type { OutputOptions, Reporter } from '../report/reporter.js';

/** What a command's action gets from the CLI: where events go, and the Ctrl-C / SIGTERM signal. */
export interface RunContext {
  reporter: Reporter;
  /** Aborted on SIGINT or SIGTERM; `signal.reason` is the signal's name. */
  signal: AbortSignal;
  /**
   * Emits the run's summaries, the last events of a run, carrying the exit code and the error;
   * then throws the error, if any, for the exit code.
   */
  finish(summaries: Summary[], error: NetnoteError | null): void;
}

/**
 * Runs an action with output and signals set up, and turns its outcome into the exit code.
 * `role` tags the error event of a run that ends before its summary.
 */
export type Execute = (
  command: Command,
  role: Role,
  action: (context: RunContext) => Promise<void>,
  output?: Pick<OutputOptions, 'style' | 'silent' | 'chart'> & {
    /** The assertions the command line asked for: one JUnit test case each (--junit). */
    checks?: Check[];
  },
) => Promise<void>;

/** Resolves when the run is interrupted. */
export function interrupted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

/** A server runs until a signal, then stops and reports. */
export async function serveUntilStopped(
  server: { close(): Promise<void>; summary(): ServerSummary | UdpServerSummary },
  { signal, finish }: RunContext,
): Promise<void> {
  await interrupted(signal);
  await server.close();
  // SIGTERM is how services are stopped: a clean end. Ctrl-C is an interruption.
  finish([{ role: 'server', summary: server.summary() }], signal.reason === 'SIGTERM' ? null : new NetnoteError('interrupted', 'interrupted'));
}
