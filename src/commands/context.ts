import type { Command } from 'commander';
import { NetnoteError } from '../core/errors.js';
import type { Role } from '../core/events.js';
import type { Summary } from '../core/summary.js';
import type { ServerSummary } from '../core/tcp/server.js';
import type { UdpServerSummary } from '../core/udp/server.js';
import type { Check } from '../report/junit/checks.js';
import type { OutputOptions, Reporter } from '../report/reporter.js';

/** What a command's action gets from the CLI: where events go, and the signal that stops the run. */
export interface RunContext {
  reporter: Reporter;
  /**
   * Aborted when the run must stop: SIGINT, SIGTERM or SIGHUP, or stdout failing. The core ends
   * its run as `interrupted`; the CLI says which of them it was (`signal.reason`, a NetnoteError).
   */
  signal: AbortSignal;
  /**
   * The run's summaries and its error (null: it went well). The CLI emits them as the run's last
   * events, with the exit code, once the action returns: call it last.
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
  // The CLI says which signal it was (every signal has its exit code: README, Signals).
  finish([{ role: 'server', summary: server.summary() }], new NetnoteError('interrupted', 'interrupted'));
}
