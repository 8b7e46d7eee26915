// Peers and people put control characters in what netnote prints: an HTTP status or header, a
// DNS TXT record, a certificate's subject, a path typed as $'/x\r\n…'. Raw, they would split a
// line, move the cursor or recolour the terminal; every human line shows them escaped, as
// Python's repr() of a str does. Payloads have their own rendering (bytes.ts).

// C0, DEL, C1, and the invisible controls that reorder or break lines (bidi marks and
// overrides, the Unicode line and paragraph separators).
const CONTROL = '[\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069]';
const HAS_CONTROL = new RegExp(CONTROL);
const EVERY_CONTROL = new RegExp(CONTROL, 'g');

const NAMED: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' };

function escape(char: string): string {
  const code = char.charCodeAt(0);
  return NAMED[char] ?? (code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`);
}

/** The text with every control character escaped (`\r`, `\x1b`, `\u202e`), so it stays one line. */
export function printable(text: string): string {
  return HAS_CONTROL.test(text) ? text.replace(EVERY_CONTROL, escape) : text;
}

/**
 * The same value with every string in it printable, at any depth; the value itself when nothing
 * needed escaping (the common case costs no copy). Payloads (Buffers) and regexes pass as they are.
 */
export function printableStrings<T>(value: T): T {
  if (typeof value === 'string') return printable(value) as T;
  if (typeof value !== 'object' || value === null || Buffer.isBuffer(value) || value instanceof RegExp) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | null = null;
    value.forEach((item: unknown, i) => {
      const shown = printableStrings(item);
      if (shown !== item) (copy ??= [...value])[i] = shown;
    });
    return (copy ?? value) as T;
  }
  let copy: Record<string, unknown> | null = null;
  for (const [key, item] of Object.entries(value)) {
    const shown = printableStrings(item);
    if (shown !== item) (copy ??= { ...(value as Record<string, unknown>) })[key] = shown;
  }
  return (copy ?? value) as T;
}
