// Payloads as the note prints them: Python's repr(bytes), byte for byte.

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

/** `b'1234567890'`, `b"it's"`, `b'\x00\xff'`: exactly what Python's repr() gives for these bytes. */
export function pythonBytes(data: Uint8Array): string {
  const text = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1');
  // Python picks double quotes only when the data holds ' and no ".
  if (text.includes("'") && !text.includes('"')) {
    return `b"${text.replace(NEEDS_ESCAPE_DOUBLE, escapeChar)}"`;
  }
  return `b'${text.replace(NEEDS_ESCAPE_SINGLE, escapeChar)}'`;
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
