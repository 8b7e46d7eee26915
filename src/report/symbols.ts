// The few characters of human output outside ASCII, and their ASCII stand-ins for a terminal
// whose locale is not UTF-8 (where `≈` would print as mojibake or `?`).

export interface Symbols {
  approx: string;
  atMost: string;
  /** The advice that follows from a result (idle-timeout). */
  arrow: string;
  bar: string;
  ellipsis: string;
  times: string;
}

/** What a UTF-8 file (an HTML report, JUnit XML) always shows. */
export const UNICODE: Symbols = { approx: '≈', atMost: '≤', arrow: '→', bar: '█', ellipsis: '…', times: '×' };
const ASCII: Symbols = { approx: '~', atMost: '<=', arrow: '->', bar: '#', ellipsis: '...', times: 'x' };

/**
 * The locale's character set decides, read as setlocale(LC_CTYPE, "") reads it: LC_ALL, then
 * LC_CTYPE, then LANG, the first one set. None set is the C locale: ASCII.
 */
export function symbolsFor(env: NodeJS.ProcessEnv): Symbols {
  const locale = env.LC_ALL || env.LC_CTYPE || env.LANG || 'C';
  return /utf-?8/i.test(locale) ? UNICODE : ASCII;
}
