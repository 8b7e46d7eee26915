import { InvalidValueError } from './errors.js';

/** Milliseconds since `start` (from performance.now()), rounded to microseconds. */
export function elapsedMs(start: number): number {
  return Math.round((performance.now() - start) * 1000) / 1000;
}

/** Waits `ms`, or less when `signal` aborts first: it resolves then, at once (it never rejects). */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * The longest wait a person may ask for: Node's timers hold at most 2^31-1 ms (about 24.8 days),
 * and fire at once, with a warning, beyond it. Every duration (options, script files) is checked
 * against it, so a run never waits less than it was told.
 */
export const MAX_DURATION_MS = 2 ** 31 - 1;

/**
 * `500ms`, `1s`, `1.5s`, `2m`, `1h`, and compounds such as `1m30s` or `1h15m`, in milliseconds;
 * a bare number is seconds, as for nc -w and ping -i.
 */
export function parseDuration(input: string): number {
  const text = input.trim().toLowerCase();
  const parts = /^\d+(?:\.\d+)?$/.test(text) ? [[text, text, 's']] : [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) {
    throw new InvalidValueError('duration', input, 'use a duration such as 500ms, 1s, 2m or 1m30s');
  }
  return checkDuration(parts.reduce((total, [, value, unit]) => total + Number(value) * UNITS[unit!]!, 0), input);
}

/** A duration in ms (rounded to one), refused past MAX_DURATION_MS; `input` is what the person wrote. */
export function checkDuration(ms: number, input: string): number {
  if (!(ms <= MAX_DURATION_MS)) throw new InvalidValueError('duration', input, 'at most 596h31m23s (2^31-1 ms, about 24.8 days): the longest a timer can wait');
  return Math.round(ms);
}
