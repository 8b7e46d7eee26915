import type { ReportEvent } from '../core/summary.js';
import { SHOWN_BYTES, pythonBytes } from './bytes.js';
import type { Reporter } from './reporter.js';
import type { LineWriter } from './writer.js';

/** Version of the event schema: docs/json.md, docs/netnote.schema.json. */
const SCHEMA_VERSION = 1;

/** NDJSON: one object per event, as it happens, on stdout. */
export class JsonReporter implements Reporter {
  readonly messages: boolean;

  constructor(private readonly out: LineWriter, quiet: boolean) {
    this.messages = !quiet;
  }

  emit(e: ReportEvent): void {
    this.out.write(JSON.stringify({ v: SCHEMA_VERSION, time: new Date().toISOString(), ...e }, encode));
  }

  room(): Promise<void> | null {
    return this.out.room();
  }

  close(): void {
    this.out.flush();
  }
}

// Payloads travel as base64 with the note's text form beside it; regexes as their source.
function encode(this: unknown, key: string, value: unknown): unknown {
  const raw = (this as Record<string, unknown>)[key];
  if (Buffer.isBuffer(raw)) {
    const head = raw.subarray(0, SHOWN_BYTES);
    return { bytes: raw.length, base64: head.toString('base64'), text: pythonBytes(head), ...(head.length < raw.length ? { shown: head.length } : {}) };
  }
  if (raw instanceof RegExp) return raw.source;
  return value;
}
