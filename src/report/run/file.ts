import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import { NetnoteError, type ErrorCode, type ErrorInfo } from '../../core/errors.js';
import { openInput } from '../../core/files.js';
import { RunRecorder, type RecordedEvent, type RunRecord } from './record.js';

/** The --json schema this netnote reads back (docs/json.md). */
const SCHEMA_VERSION = 1;

// Per-message lines that no record keeps: skipped without parsing, so a 100 000-message run
// reads in a second. Whatever else a line holds is parsed and checked.
const SKIPPED = /^\{"v":1,"time":"[^"]+","event":"(?:send|round|no-reply)"/;

const usage = (message: string, hint?: string) => new NetnoteError('usage', message, hint);
const HINT = 'give files written by netnote --json (one JSON object per line)';

/**
 * Reads a run back from its NDJSON (netnote --json …  > RUN.ndjson). Anything that is not such
 * a file, whole, is a usage error naming the file and the line.
 */
export async function readRunFile(path: string, signal: AbortSignal): Promise<RunRecord> {
  const name = basename(path);
  const recorder = new RunRecorder(name);
  // A FIFO or `<(ssh host cat run.ndjson)` too: opened so that a signal can stop the wait.
  const stream = (await openInput({ path, option: '' }, signal)).setEncoding('utf8');
  let lineNo = 0;
  let last = '';
  let endsWithNewline = true;
  stream.on('data', (chunk: string | Buffer) => {
    if (chunk.length > 0) endsWithNewline = String(chunk).endsWith('\n');
  });
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let events = 0;
  try {
    for await (const line of lines) {
      lineNo++;
      last = line;
      if (line.trim() === '') continue;
      if (SKIPPED.test(line)) {
        events++;
        continue;
      }
      const event = parseLine(name, lineNo, line);
      events++;
      const recorded = toRecorded(event);
      if (recorded) recorder.add(recorded, Date.parse(event.time as string));
    }
  } catch (err) {
    if (err instanceof NetnoteError && !endsWithNewline && last !== '' && /is not JSON/.test(err.message) && lineNo > 1) {
      throw usage(`${name} is truncated: line ${lineNo} is cut off`, 'the run was still writing it, or the copy is incomplete');
    }
    if (err instanceof NetnoteError) throw err;
    throw usage(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  } finally {
    stream.destroy();
  }
  if (events === 0) throw usage(`${name} is empty: no events`, HINT);
  const run = recorder.run;
  if (run.summaries.length === 0) {
    throw usage(`${name} has no summary: ${run.error ? `the run ended with an error (${run.error.message})` : 'the run did not finish (killed, or the file is cut short)'}`,
      run.error ? 'only runs that got to their summary can be reported or merged' : HINT);
  }
  return run;
}

type JsonEvent = Record<string, unknown> & { event: string; time: string };

function parseLine(name: string, lineNo: number, line: string): JsonEvent {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw usage(`${name} line ${lineNo} is not JSON: ${line.length > 40 ? `${line.slice(0, 40)}…` : line}`, HINT);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw usage(`${name} line ${lineNo} is not a netnote event (not an object)`, HINT);
  const e = value as Record<string, unknown>;
  if (e.v !== SCHEMA_VERSION) {
    throw usage(typeof e.v === 'number' ? `${name} line ${lineNo} has event schema v${e.v}; this netnote reads v${SCHEMA_VERSION}` : `${name} line ${lineNo} is not a netnote event (no "v")`, HINT);
  }
  if (typeof e.event !== 'string' || typeof e.time !== 'string' || Number.isNaN(Date.parse(e.time)) || (e.role !== 'client' && e.role !== 'server')) {
    throw usage(`${name} line ${lineNo} is not a netnote event (event, time or role missing)`, HINT);
  }
  return e as JsonEvent;
}

const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/** The JSON form of the events a record keeps, checked as far as the record reads them. */
function toRecorded(e: JsonEvent): RecordedEvent | null {
  const role = e.role as 'client' | 'server';
  switch (e.event) {
    case 'recv':
      return isNumber(e.rttMs) ? { event: 'recv', role, rttMs: e.rttMs } : null;
    case 'interval':
      if (!isNumber(e.fromS) || !isNumber(e.toS) || !isNumber(e.bytes)) return null;
      return {
        event: 'interval', role, fromS: e.fromS, toS: e.toS, bytes: e.bytes,
        ...(Array.isArray(e.perConnection) && e.perConnection.every(isNumber) ? { perConnection: e.perConnection } : {}),
        ...(Array.isArray(e.perClient) ? { perClient: (e.perClient as Array<{ client: number; bytes: number }>).filter((c) => isNumber(c?.client) && isNumber(c?.bytes)) } : {}),
        ...(e.direction === 'send' || e.direction === 'receive' ? { direction: e.direction } : {}),
      };
    case 'mismatch':
      return { event: 'mismatch', role, seq: isNumber(e.seq) ? e.seq : 0, check: String(e.check), expected: shown(e.expected, true), got: shown(e.got, false) };
    case 'summary':
      if (typeof e.summary !== 'object' || e.summary === null || typeof (e.summary as { proto?: unknown }).proto !== 'string' || !isNumber(e.exitCode)) return null;
      return { event: 'summary', role, summary: e.summary as { proto: string }, exitCode: e.exitCode, error: errorInfo(e.error) };
    case 'error':
      return { ...(errorInfo(e) ?? { code: 'lost', message: 'unknown error' }), event: 'error', role, exitCode: isNumber(e.exitCode) ? e.exitCode : 70 };
    default:
      return null;
  }
}

/** A payload's text form, or a regex source as the log shows it. */
function shown(value: unknown, regexAllowed: boolean): string {
  if (typeof value === 'string') return regexAllowed ? `/${value}/` : value;
  const text = (value as { text?: unknown } | null)?.text;
  return typeof text === 'string' ? text : '?';
}

function errorInfo(value: unknown): ErrorInfo | null {
  const e = value as { code?: unknown; message?: unknown; hint?: unknown } | null;
  if (!e || typeof e.code !== 'string' || typeof e.message !== 'string') return null;
  return { code: e.code as ErrorCode, message: e.message, ...(typeof e.hint === 'string' ? { hint: e.hint } : {}) };
}
