// Payloads as the note prints them: Python's repr(bytes), byte for byte.
import { isAscii } from 'node:buffer';

const ESCAPES: string[] = Array.from({ length: 256 }, (_, byte) => {
  switch (byte) {
    case 0x09: return '\\t';
    case 0x0a: return '\\n';
    case 0x0d: return '\\r';
    case 0x5c: return '\\\\';
    case 0x27: return "\\'";
    default: return `\\x${byte.toString(16).padStart(2, '0')}`;
  }
});

// Bytes that Python escapes; the quote in use joins them. Matching runs in the regex engine,
// so mostly-printable payloads cost one native scan.
const NEEDS_ESCAPE_SINGLE = /[\x00-\x1f\x7f-\xff\\']/g;
const NEEDS_ESCAPE_DOUBLE = /[\x00-\x1f\x7f-\xff\\]/g;

const escapeChar = (char: string): string => ESCAPES[char.charCodeAt(0)]!;

/**
 * A log line shows at most this much of one payload: more than anyone reads in a line, and far
 * below V8's longest string (~512 M characters), which a 600 MB payload's repr ran into.
 */
export const SHOWN_BYTES = 1 << 20;

/** pythonBytes() of at most SHOWN_BYTES, saying how many bytes it left out. */
export function shownBytes(data: Uint8Array, ellipsis: string): string {
  if (data.length <= SHOWN_BYTES) return pythonBytes(data);
  return `${pythonBytes(data.subarray(0, SHOWN_BYTES))}${ellipsis} (${data.length - SHOWN_BYTES} more bytes not shown)`;
}

/** `b'1234567890'`, `b"it's"`, `b'\x00\xff'`: exactly what Python's repr() gives for these bytes. */
export function pythonBytes(data: Uint8Array): string {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const text = bytes.toString('latin1');
  const quote = verbatimQuote(bytes);
  if (quote) return `b${quote}${text}${quote}`;
  // Python picks double quotes only when the data holds ' and no ".
  if (text.includes("'") && !text.includes('"')) {
    return `b"${text.replace(NEEDS_ESCAPE_DOUBLE, escapeChar)}"`;
  }
  return `b'${text.replace(NEEDS_ESCAPE_SINGLE, escapeChar)}'`;
}

/**
 * The quote Python puts around `data` when every byte prints as it is, else null. Native scans
 * (isAscii, indexOf) and a word-at-a-time check for control bytes keep this far cheaper than the
 * escaping path on large, printable payloads: the common case when logging a stream.
 */
function verbatimQuote(data: Buffer): "'" | '"' | null {
  if (!isAscii(data) || data.includes(0x5c) || data.includes(0x7f) || hasControlByte(data)) return null;
  if (!data.includes(0x27)) return "'";
  return data.includes(0x22) ? null : '"';
}

/** Whether any byte is below 0x20; `data` is known to be ASCII. */
function hasControlByte(data: Buffer): boolean {
  const lead = (4 - (data.byteOffset & 3)) & 3; // bytes before the first 4-byte boundary
  if (data.length < lead + 4) return data.some((byte) => byte < 0x20);
  let i = 0;
  for (; i < lead; i++) if (data[i]! < 0x20) return true;
  const words = new Uint32Array(data.buffer, data.byteOffset + lead, (data.length - lead) >>> 2);
  for (let k = 0; k < words.length; k++) {
    const w = words[k]!;
    // A byte below 0x20 borrows through the subtraction and leaves its top bit set (all bytes < 0x80).
    if (((w - 0x20202020) & ~w & 0x80808080) !== 0) return true;
  }
  for (i += words.length * 4; i < data.length; i++) if (data[i]! < 0x20) return true;
  return false;
}

/** `hexdump -C` layout: offset, 16 bytes in two groups of 8, printable ASCII between bars. */
export function hexDump(data: Uint8Array): string[] {
  const lines: string[] = [];
  for (let offset = 0; offset < data.length; offset += 16) {
    const row = data.subarray(offset, offset + 16);
    let hex = '';
    let ascii = '';
    for (let i = 0; i < 16; i++) {
      if (i === 8) hex += ' ';
      if (i < row.length) {
        const byte = row[i]!;
        hex += `${byte.toString(16).padStart(2, '0')} `;
        ascii += byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : '.';
      } else {
        hex += '   ';
      }
    }
    lines.push(`${offset.toString(16).padStart(8, '0')}  ${hex} |${ascii}|`);
  }
  return lines;
}
