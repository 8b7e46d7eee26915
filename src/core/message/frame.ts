import { NetnoteError } from '../errors.js';
import { FIELD_WIDTH, readField, type IntField } from './fields.js';
import { parseHex } from './payload.js';

// TCP is a byte stream: a framer cuts it into the messages a protocol means. One framer serves
// the client and the server; UDP needs none (a datagram is a message).

export type FrameSpec =
  /** Each read is a message, as the note's recv(1024) sees it. */
  | { kind: 'raw' }
  /** Up to and including LF; a CR before it is part of the terminator. */
  | { kind: 'line' }
  | { kind: 'delimiter'; delimiter: Buffer }
  | { kind: 'fixed'; size: number }
  /**
   * A length field `offset` bytes in; the message is offset + field + value + adjust bytes long
   * (adjust -2 for a u16 length that counts itself, +2 for a CRC after the counted bytes).
   */
  | { kind: 'length'; field: IntField; offset: number; adjust: number }
  /** MQTT's fixed header: a type byte, then the variable-length "remaining length". */
  | { kind: 'mqtt' };

/** A message longer than this is a framing error: a peer's 4 GB length prefix must not allocate 4 GB. */
export const MAX_FRAME = 16 * 1024 * 1024;

/** One message: `data` as it was on the wire, `body` without its line or delimiter terminator (what rules match). */
export interface Frame {
  data: Buffer;
  body: Buffer;
}

/** The stream cannot be cut into messages any more (a length over the limit, a malformed header). */
export class FrameError extends Error {
  constructor(message: string, readonly buffered: Buffer) {
    super(message);
    this.name = 'FrameError';
  }
}

/** `raw`, `line`, `delimiter:HEX`, `fixed:N`, `length:u16be[@OFFSET][+ADJ|-ADJ]`, `mqtt`. */
export function parseFrame(input: string): FrameSpec {
  const text = input.trim();
  const [kind, arg] = splitOnce(text, ':');
  const bad = (why: string) => new NetnoteError('usage', `invalid frame '${input}': ${why}`,
    'use raw, line, delimiter:HEX, fixed:N, length:u8|u16be|u16le|u32be|u32le[@OFFSET][+ADJ], or mqtt');
  switch (kind) {
    case 'raw':
    case 'line':
    case 'mqtt':
      if (arg !== undefined) throw bad(`${kind} takes no argument`);
      return { kind };
    case 'delimiter': {
      if (!arg) throw bad('give the delimiter in hex, e.g. delimiter:0d0a');
      let delimiter: Buffer;
      try {
        delimiter = parseHex(arg);
      } catch {
        throw bad(`'${arg}' is not hex`);
      }
      if (delimiter.length === 0) throw bad('the delimiter is empty');
      return { kind, delimiter };
    }
    case 'fixed': {
      const size = Number(arg);
      if (!arg || !/^\d+$/.test(arg) || size < 1 || size > MAX_FRAME) throw bad(`the size must be 1 to ${MAX_FRAME} bytes`);
      return { kind, size };
    }
    case 'length': {
      const match = /^(u8|u16be|u16le|u32be|u32le)(?:@(\d+))?(?:([+-])(\d+))?$/.exec(arg ?? '');
      if (!match) throw bad('expected length:u8|u16be|u16le|u32be|u32le, then optionally @OFFSET and +ADJ or -ADJ');
      const field = match[1] as IntField;
      const adjust = match[3] === undefined ? 0 : Number(match[4]) * (match[3] === '-' ? -1 : 1);
      return { kind, field, offset: Number(match[2] ?? 0), adjust };
    }
    default:
      throw bad(`unknown mode '${kind}'`);
  }
}

/** The frame as it is written on the command line and in logs. */
export function frameName(spec: FrameSpec): string {
  switch (spec.kind) {
    case 'delimiter': return `delimiter:${spec.delimiter.toString('hex')}`;
    case 'fixed': return `fixed:${spec.size}`;
    case 'length': {
      const offset = spec.offset ? `@${spec.offset}` : '';
      const adjust = spec.adjust > 0 ? `+${spec.adjust}` : spec.adjust < 0 ? String(spec.adjust) : '';
      return `length:${spec.field}${offset}${adjust}`;
    }
    default: return spec.kind;
  }
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}

/**
 * Cuts a byte stream into messages. Bytes of a message not yet complete are held (at most
 * `max`); `push()` returns the messages a chunk completed, in order.
 */
export class Framer {
  private held: Buffer | null = null;
  /** Where the search for a terminator goes on in `held`: fragments are not scanned twice. */
  private scanned = 0;

  constructor(private readonly spec: FrameSpec, private readonly max = MAX_FRAME) {}

  /** How many bytes of an incomplete message wait for the rest. */
  get holding(): number {
    return this.held?.length ?? 0;
  }

  /** Bytes of an incomplete message waiting for the rest. */
  get buffered(): Buffer {
    return this.held ?? Buffer.alloc(0);
  }

  push(chunk: Buffer): Frame[] {
    const spec = this.spec;
    if (spec.kind === 'raw') return chunk.length === 0 ? [] : [{ data: chunk, body: chunk }];
    const data = this.held ? Buffer.concat([this.held, chunk]) : chunk;
    const frames: Frame[] = [];
    let start = 0;
    for (;;) {
      const end = this.end(spec, data, start);
      if (end === null) break;
      const message = data.subarray(start, end);
      frames.push({ data: message, body: this.body(message) });
      start = end;
      this.scanned = 0;
    }
    if (start === data.length) {
      this.held = null;
    } else {
      // A copy: holding a subarray would keep the whole chunk it came from alive.
      this.held = Buffer.from(data.subarray(start));
      if (this.held.length > this.max) {
        throw new FrameError(`${this.held.length} bytes without a complete message: over the ${this.max}-byte limit`, this.held);
      }
    }
    return frames;
  }

  /** Where the message starting at `start` ends, or null while it is incomplete. */
  private end(spec: Exclude<FrameSpec, { kind: 'raw' }>, data: Buffer, start: number): number | null {
    const left = data.length - start;
    switch (spec.kind) {
      case 'line':
      case 'delimiter': {
        const delimiter = spec.kind === 'line' ? LF : spec.delimiter;
        const from = Math.max(start, start + this.scanned - delimiter.length + 1);
        const at = data.indexOf(delimiter, from);
        if (at < 0) {
          this.scanned = left;
          return null;
        }
        return at + delimiter.length;
      }
      case 'fixed': return left >= spec.size ? start + spec.size : null;
      case 'length': {
        const header = spec.offset + FIELD_WIDTH[spec.field];
        if (left < header) return null;
        const value = readField(data, start + spec.offset, spec.field);
        return this.sized(data, start, header + value + spec.adjust, header, `length ${value}`);
      }
      case 'mqtt': {
        let value = 0;
        for (let i = 1; i <= 4; i++) {
          if (left <= i) return null;
          const byte = data[start + i]!;
          value += (byte & 0x7f) * 128 ** (i - 1);
          if ((byte & 0x80) === 0) return this.sized(data, start, 1 + i + value, 1 + i, `remaining length ${value}`);
        }
        throw new FrameError('MQTT remaining length runs over 4 bytes', data.subarray(start, start + 5));
      }
    }
  }

  private sized(data: Buffer, start: number, total: number, header: number, what: string): number | null {
    if (total < header) throw new FrameError(`${what} makes a message shorter than its own header`, data.subarray(start, start + header));
    if (total > this.max) throw new FrameError(`${what}: a ${total}-byte message is over the ${this.max}-byte limit`, data.subarray(start));
    return data.length - start >= total ? start + total : null;
  }

  private body(message: Buffer): Buffer {
    const spec = this.spec;
    if (spec.kind === 'line') {
      const cr = message.length >= 2 && message[message.length - 2] === 0x0d ? 2 : 1;
      return message.subarray(0, message.length - cr);
    }
    if (spec.kind === 'delimiter') return message.subarray(0, message.length - spec.delimiter.length);
    return message;
  }
}

const LF = Buffer.from('\n');
