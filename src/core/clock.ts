import { NetnoteError } from './errors.js';

/** Milliseconds since `start` (from performance.now()), rounded to microseconds. */
export function elapsedMs(start: number): number {
  return Math.round((performance.now() - start) * 1000) / 1000;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `500ms`, `1s`, `1.5s`, `2m`, `1h`, in milliseconds; a bare number is seconds, as for nc -w and ping -i. */
export function parseDuration(input: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/i.exec(input.trim());
  if (!match) throw new NetnoteError('usage', `invalid duration '${input}': use e.g. 500ms, 1s, 2m`);
  return Math.round(Number(match[1]) * UNITS[(match[2] ?? 's').toLowerCase()]!);
}
