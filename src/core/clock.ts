import { InvalidValueError } from './errors.js';

/** Milliseconds since `start` (from performance.now()), rounded to microseconds. */
export function elapsedMs(start: number): number {
  return Math.round((performance.now() - start) * 1000) / 1000;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * `500ms`, `1s`, `1.5s`, `2m`, `1h`, and compounds such as `1m30s` or `1h15m`, in milliseconds;
 * a bare number is seconds, as for nc -w and ping -i.
 */
export function parseDuration(input: string): number {
  const text = input.trim().toLowerCase();
  if (/^\d+(?:\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) {
    throw new InvalidValueError('duration', input, 'use a duration such as 500ms, 1s, 2m or 1m30s');
  }
  return Math.round(parts.reduce((total, [, value, unit]) => total + Number(value) * UNITS[unit!]!, 0));
}
