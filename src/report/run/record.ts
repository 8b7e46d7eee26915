import type { ErrorInfo } from '../../core/errors.js';
import type { Role } from '../../core/events.js';
import type { IntervalPart } from '../../core/merge/parts.js';
import type { ReportEvent } from '../../core/summary.js';
import { shownBytes } from '../bytes.js';
import { UNICODE } from '../symbols.js';

// What the HTML report, the JUnit file and `merge` need of a run, kept as its events go by (live,
// with --report/--junit) or as its NDJSON is read back (`netnote report`, `netnote merge`): the
// same record either way, so a report of a file shows what the live report showed.

/** A summary as reporters see it, its fields left to the one that reads them. */
export interface RecordedSummary {
  role: Role;
  summary: { proto: string } & Record<string, unknown>;
  exitCode: number;
  error: ErrorInfo | null;
  /** Wall clock, ms since the epoch. */
  endedAt: number;
}

/** A per-second event and its wall-clock end, as `merge` lines runs up. */
export type RecordedInterval = IntervalPart & { role: Role };

/** A reply that did not pass its check, with the bytes as the log shows them. */
export interface RecordedMismatch {
  seq: number;
  check: string;
  expected: string;
  got: string;
}

/** Where a client script's step ran: its number, its label, its pass inside a repeat. */
interface StepPlace {
  step: string;
  label?: string;
  pass?: number;
}

/** A client script's expect step, over every pass that ran it (docs/scripts.md). */
export interface RecordedExpect {
  step: string;
  label: string | null;
  /** Passes that met it, and the time they waited. */
  met: number;
  ms: number;
  /** The pass that failed it (the run stopped there): what came instead, or what was left when it timed out. */
  failed:
    | { outcome: 'mismatch'; pass: number | null; check: string; expected: string; got: string }
    | { outcome: 'timeout'; pass: number | null; afterMs: number; received: string }
    | null;
}

export interface RunRecord {
  /** The command line, or the file it was read from. */
  label: string;
  /** Wall clock of the first event, ms. */
  startedAt: number | null;
  /** Every reply that completed a round trip (client): when (s since the first event) and how long. */
  rtt: { atS: number[]; ms: number[] };
  intervals: RecordedInterval[];
  mismatches: RecordedMismatch[];
  /** A client script's expect steps, in the order they first ran (a live run's: only its JUnit file reads them). */
  expects: RecordedExpect[];
  summaries: RecordedSummary[];
  /** The error of a run that ended before its summary. */
  error: (ErrorInfo & { exitCode: number }) | null;
}

/** The events a record keeps, in their JSON form (docs/json.md); payloads as their text. */
export type RecordedEvent =
  | { event: 'recv'; role: Role; rttMs?: number }
  | ({ event: 'interval' } & Omit<RecordedInterval, 'endedAt'>)
  | ({ event: 'mismatch'; role: Role; seq: number; check: string; expected: string; got: string } & Partial<StepPlace>)
  | ({ event: 'step'; role: Role; name: string; ms?: number; timedOut?: boolean; data?: string } & StepPlace)
  | { event: 'summary'; role: Role; summary: RecordedSummary['summary']; exitCode: number; error: ErrorInfo | null }
  | ({ event: 'error'; role: Role; exitCode: number } & ErrorInfo);

export class RunRecorder {
  private readonly record: RunRecord;
  private readonly expects = new Map<string, RecordedExpect>();

  constructor(label: string) {
    this.record = { label, startedAt: null, rtt: { atS: [], ms: [] }, intervals: [], mismatches: [], expects: [], summaries: [], error: null };
  }

  /** An event and its wall-clock time (ms since the epoch). */
  add(e: RecordedEvent, time: number): void {
    const r = this.record;
    r.startedAt ??= time;
    switch (e.event) {
      case 'recv':
        if (e.rttMs === undefined || e.role !== 'client') return;
        r.rtt.atS.push(Math.round((time - r.startedAt) * 1000) / 1e6); // to the microsecond a live run knows
        r.rtt.ms.push(e.rttMs);
        return;
      case 'interval': {
        const { event: _event, ...interval } = e;
        r.intervals.push({ ...interval, endedAt: time });
        return;
      }
      case 'mismatch': {
        const { seq, check, expected, got } = e;
        r.mismatches.push({ seq, check, expected, got });
        if (e.step !== undefined) this.expect({ step: e.step, label: e.label, pass: e.pass }).failed = { outcome: 'mismatch', pass: e.pass ?? null, check, expected, got };
        return;
      }
      case 'step': {
        if (e.name !== 'expect') return;
        const expect = this.expect(e);
        expect.ms += e.ms ?? 0;
        if (e.timedOut) expect.failed = { outcome: 'timeout', pass: e.pass ?? null, afterMs: e.ms ?? 0, received: e.data ?? '' };
        else expect.met++;
        return;
      }
      case 'summary':
        r.summaries.push({ role: e.role, summary: e.summary, exitCode: e.exitCode, error: e.error, endedAt: time });
        return;
      case 'error': {
        const { event: _event, role: _role, ...error } = e;
        r.error = error;
        return;
      }
    }
  }

  /** A live event, if a record keeps it. */
  addLive(e: ReportEvent, time: number): void {
    switch (e.event) {
      case 'recv':
        if (e.rttMs !== undefined) this.add({ event: 'recv', role: e.role, rttMs: e.rttMs }, time);
        return;
      case 'mismatch':
        return this.add({
          ...e, expected: e.expected instanceof RegExp ? `/${e.expected.source}/` : shownBytes(e.expected, UNICODE.ellipsis), got: shownBytes(e.got, UNICODE.ellipsis),
        }, time);
      case 'step': {
        if (e.name !== 'expect') return;
        const { data, ...step } = e;
        return this.add({ ...step, ...(data ? { data: shownBytes(data, UNICODE.ellipsis) } : {}) }, time);
      }
      case 'summary':
        // Through JSON, as a file would bring it: the record holds no live objects.
        return this.add(JSON.parse(JSON.stringify(e)) as RecordedEvent, time);
      case 'interval':
      case 'error':
        return this.add(e, time);
      default:
    }
  }

  get run(): RunRecord {
    return this.record;
  }

  /** The record of an expect step, made the first time it runs. */
  private expect(place: StepPlace): RecordedExpect {
    let expect = this.expects.get(place.step);
    if (!expect) {
      expect = { step: place.step, label: place.label ?? null, met: 0, ms: 0, failed: null };
      this.expects.set(place.step, expect);
      this.record.expects.push(expect);
    }
    return expect;
  }
}
