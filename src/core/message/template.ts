import { randomBytes } from 'node:crypto';
import { NetnoteError } from '../errors.js';
import { CHECKSUMS, isChecksumName, type ChecksumName } from './checksum.js';
import { FIELD_WIDTH, INT_FIELDS, writeField, type IntField } from './fields.js';
import { parseHex } from './payload.js';

// A payload with placeholders, compiled once and expanded per message: `{seq:u16be}`, `{len:u8}`,
// `{crc16-modbus}`… A payload without placeholders expands to the same Buffer every time.

/** What a placeholder can refer to when its message is made. */
interface TemplateContext {
  /** The message's number: 1 for the first this template makes on this connection or peer. */
  seq: number;
  /** Groups of the regex rule or expectation that matched last; `{1}` is captures[0]. */
  captures: readonly Buffer[];
}

type Part =
  | { kind: 'bytes'; bytes: Buffer }
  | { kind: 'seq'; field: IntField | null }
  | { kind: 'time'; ms: boolean; field: IntField | null }
  | { kind: 'rand'; size: number }
  | { kind: 'capture'; group: number }
  /** The number of bytes after the field, to the end of the message. */
  | { kind: 'len'; field: IntField | null }
  | { kind: 'checksum'; name: ChecksumName; order: 'le' | 'be'; hex: boolean; from: number; to: number | null };

export interface Template {
  /** As written, for messages. */
  readonly source: string;
  /** The bytes when the template has no placeholder. */
  readonly fixed: Buffer | null;
  expand(context: TemplateContext): Buffer;
}

const MAX_RAND = 65536;
const PLACEHOLDERS = '{seq}, {seq:u16be}, {time}, {time:ms}, {time:u32be}, {rand:N}, {len}, {len:u16be}, {1}…{9}, ' +
  '{crc16-modbus}, {crc16-ccitt}, {crc32}, {sum8}, {xor8}, {lrc}';

/** Bytes as a template that has no placeholder. */
export function literal(bytes: Buffer): Template {
  return { source: bytes.toString('latin1'), fixed: bytes, expand: () => bytes };
}

/**
 * Compiles `source`: text (UTF-8 around the placeholders; `{{` and `}}` for literal braces) or
 * hex (pairs of hex digits around them). `what` names it in errors (`--data`, `reply`…).
 */
export function compileTemplate(source: string, mode: 'text' | 'hex', what: string): Template {
  const parts: Part[] = [];
  let literalText = '';
  const flush = () => {
    if (literalText === '') return;
    parts.push({ kind: 'bytes', bytes: mode === 'hex' ? hexLiteral(literalText, source, what) : Buffer.from(literalText, 'utf8') });
    literalText = '';
  };
  for (let i = 0; i < source.length; i++) {
    const char = source[i]!;
    if (mode === 'text' && (char === '{' || char === '}') && source[i + 1] === char) {
      literalText += char;
      i++;
      continue;
    }
    if (char === '}') throw templateError(what, source, `a '}' with no '{' before it${mode === 'text' ? ' (write }} for a literal brace)' : ''}`);
    if (char !== '{') {
      literalText += char;
      continue;
    }
    const close = source.indexOf('}', i);
    if (close < 0) throw templateError(what, source, `unclosed placeholder ${source.slice(i)}`);
    flush();
    parts.push(parsePlaceholder(source.slice(i + 1, close), what, source));
    i = close;
  }
  flush();
  if (parts.length === 0) return literal(Buffer.alloc(0));
  if (parts.length === 1 && parts[0]!.kind === 'bytes') return { ...literal(parts[0]!.bytes), source };
  return new CompiledTemplate(source, parts);
}

function hexLiteral(text: string, source: string, what: string): Buffer {
  try {
    return parseHex(text);
  } catch {
    throw templateError(what, source, `'${text.trim()}' is not whole bytes of hex`);
  }
}

function templateError(what: string, source: string, why: string): NetnoteError {
  return new NetnoteError('usage', `invalid template in ${what} '${source}': ${why}`, `placeholders: ${PLACEHOLDERS}`);
}

function parsePlaceholder(inner: string, what: string, source: string): Part {
  const [name, ...args] = inner.split(':').map((s) => s.trim());
  const bad = (why: string) => templateError(what, source, `{${inner}}: ${why}`);
  const field = (arg: string | undefined): IntField | null => {
    if (arg === undefined) return null;
    if ((INT_FIELDS as readonly string[]).includes(arg)) return arg as IntField;
    throw bad(`'${arg}' is not one of ${INT_FIELDS.join(', ')}`);
  };
  const atMost = (n: number) => {
    if (args.length > n) throw bad(`too many arguments`);
  };
  if (/^[1-9]$/.test(name)) {
    atMost(0);
    return { kind: 'capture', group: Number(name) };
  }
  switch (name) {
    case 'seq':
      atMost(1);
      return { kind: 'seq', field: field(args[0]) };
    case 'len':
      atMost(1);
      return { kind: 'len', field: field(args[0]) };
    case 'time': {
      atMost(2);
      const ms = args[0] === 'ms';
      return { kind: 'time', ms, field: field(ms ? args[1] : args[0]) };
    }
    case 'rand': {
      atMost(1);
      const size = Number(args[0]);
      if (!/^\d+$/.test(args[0] ?? '') || size < 1 || size > MAX_RAND) throw bad(`give the number of random bytes, 1 to ${MAX_RAND}: {rand:4}`);
      return { kind: 'rand', size };
    }
    default: {
      if (!isChecksumName(name)) throw bad(`unknown placeholder {${name}}`);
      const part: Part = { kind: 'checksum', name, order: CHECKSUMS[name].order, hex: false, from: 0, to: null };
      for (const arg of args) {
        const range = /^(\d+)\.\.(\d+)?$/.exec(arg);
        if (arg === 'le' || arg === 'be') part.order = arg;
        else if (arg === 'hex') part.hex = true;
        else if (range) {
          part.from = Number(range[1]);
          part.to = range[2] === undefined ? null : Number(range[2]);
          if (part.to !== null && part.to < part.from) throw bad(`the range ${arg} ends before it starts`);
        } else throw bad(`'${arg}' is not le, be, hex or a byte range FROM..TO`);
      }
      return part;
    }
  }
}

function number(value: number, field: IntField | null): Buffer {
  if (field === null) return Buffer.from(String(value));
  const bytes = Buffer.alloc(FIELD_WIDTH[field]);
  writeField(bytes, 0, field, value);
  return bytes;
}

class CompiledTemplate implements Template {
  readonly fixed = null;
  private readonly computed: boolean;

  constructor(readonly source: string, private readonly parts: Part[]) {
    this.computed = parts.some((p) => p.kind === 'len' || p.kind === 'checksum');
  }

  expand({ seq, captures }: TemplateContext): Buffer {
    const { parts } = this;
    const pieces: Buffer[] = new Array(parts.length);
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      switch (part.kind) {
        case 'bytes': pieces[i] = part.bytes; break;
        case 'seq': pieces[i] = number(seq, part.field); break;
        case 'time': {
          const now = Date.now();
          pieces[i] = number(part.ms ? now : Math.floor(now / 1000), part.field);
          break;
        }
        case 'rand': pieces[i] = randomBytes(part.size); break;
        case 'capture': pieces[i] = captures[part.group - 1] ?? EMPTY; break;
        default: break; // after the others: they depend on the message around them
      }
    }
    if (!this.computed) return Buffer.concat(pieces);
    // Lengths count the bytes after them, so they are made last to first.
    let after = 0;
    for (let i = parts.length - 1; i >= 0; i--) {
      const part = parts[i]!;
      if (part.kind === 'len') pieces[i] = number(after, part.field);
      else if (part.kind === 'checksum') pieces[i] = Buffer.alloc(CHECKSUMS[part.name].width * (part.hex ? 2 : 1));
      after += pieces[i]!.length;
    }
    // Checksums cover the bytes before them (or their range), earlier checksums included.
    const message = Buffer.concat(pieces);
    let at = 0;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      if (part.kind === 'checksum') writeChecksum(message, at, part);
      at += pieces[i]!.length;
    }
    return message;
  }
}

function writeChecksum(message: Buffer, at: number, part: Extract<Part, { kind: 'checksum' }>): void {
  const { width, compute } = CHECKSUMS[part.name];
  const value = compute(message.subarray(part.from, part.to ?? at));
  // `hex`: as ASCII hex digits (Modbus ASCII's LRC, NMEA's checksum), upper case as they print them.
  if (part.hex) {
    const bytes = Buffer.alloc(width);
    writeOrdered(bytes, 0, width, part.order, value);
    message.write(bytes.toString('hex').toUpperCase(), at, 'latin1');
  } else {
    writeOrdered(message, at, width, part.order, value);
  }
}

function writeOrdered(data: Buffer, at: number, width: number, order: 'le' | 'be', value: number): void {
  if (order === 'le') data.writeUIntLE(value, at, width);
  else data.writeUIntBE(value, at, width);
}

const EMPTY = Buffer.alloc(0);
