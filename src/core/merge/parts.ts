import type { Endpoint } from '../endpoint.js';
import type { EndReason, TlsInfo } from '../events.js';
import type { ErrorInfo } from '../errors.js';

// How runs made apart (other processes, other hosts) line up when they are added together: by the
// wall clock each run's summary was stamped with.

/** One run's summary as `merge` reads it back. */
export interface RunPart<S> {
  summary: S;
  /** When the summary was reported (wall clock, ms since the epoch): the run's end. */
  endedAt: number;
  exitCode: number;
  error: ErrorInfo | null;
}

/** A per-second event (`interval`) of one run, as read back. */
export interface IntervalPart {
  /** When it was reported (wall clock, ms): the end of its second. */
  endedAt: number;
  fromS: number;
  toS: number;
  bytes: number;
  perConnection?: number[];
  perClient?: Array<{ client: number; bytes: number }>;
  /** --stream --bidir: which way the bytes went. */
  direction?: 'send' | 'receive';
}

/** From the earliest start to the latest end; a run started `lengthMs` before its summary. */
export function wallSpan<S>(parts: Array<RunPart<S>>, lengthMs: (summary: S) => number): { start: number; durationMs: number } {
  const start = Math.min(...parts.map((p) => p.endedAt - lengthMs(p.summary)));
  const end = Math.max(...parts.map((p) => p.endedAt));
  return { start, durationMs: Math.round((end - start) * 1000) / 1000 };
}

/** The second of the merged run that holds the middle of [from, to) (wall clock, ms). */
export function mergedSecond(start: number, from: number, to: number): number {
  return Math.max(0, Math.floor(((from + to) / 2 - start) / 1000));
}

/** The endpoint every run shares, or null when they differ (several hosts, several servers). */
export function sameEndpoint(endpoints: Array<Endpoint | null>): Endpoint | null {
  const [first] = endpoints;
  if (!first) return null;
  return endpoints.every((e) => e && e.address === first.address && e.port === first.port && e.family === first.family) ? first : null;
}

/**
 * The TLS session every run had alike (protocol, cipher, peer certificate), or null when they
 * differ or a run had none: a session describes one connection, it does not add up.
 */
export function sameTls(sessions: Array<TlsInfo | null>): TlsInfo | null {
  const [first] = sessions;
  if (!first) return null;
  const alike = (s: TlsInfo | null) => s !== null && s.protocol === first.protocol && s.cipher === first.cipher && s.fingerprint256 === first.fingerprint256;
  return sessions.every(alike) ? first : null;
}

/** The merged outcome: the first run that failed decides it, as the first failure ends a single run. */
export function mergedOutcome<S extends { ended: EndReason }>(parts: Array<RunPart<S>>): { ended: EndReason; exitCode: number; error: ErrorInfo | null } {
  const failed = parts.find((p) => p.exitCode !== 0);
  const decider = failed ?? parts[0]!;
  return { ended: decider.summary.ended, exitCode: failed?.exitCode ?? 0, error: failed?.error ?? null };
}

export const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0);
