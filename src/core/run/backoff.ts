import { InvalidValueError } from '../errors.js';

/**
 * --backoff MIN[,MAX]: how long a client waits before each attempt to connect again. The wait
 * doubles from MIN up to MAX, and each one is up to a quarter longer at random (jitter), never
 * over MAX, so that a thousand devices a server restart dropped do not come back in the same
 * second.
 */
export interface Backoff {
  minMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { minMs: 1000, maxMs: 30_000 };

/** The longest jitter, as a share of the wait. */
const JITTER = 0.25;

/** The wait before attempt `attempt` (1 for the first after a loss). */
export function backoffWait(backoff: Backoff, attempt: number, random: () => number = Math.random): number {
  const base = Math.min(backoff.maxMs, backoff.minMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(Math.min(backoff.maxMs, base * (1 + JITTER * random())));
}

/** `1s`, `500ms,10s`: MIN, or MIN and MAX (durations parsed by `duration`). */
export function parseBackoff(input: string, duration: (text: string) => number): Backoff {
  const [min, max, ...rest] = input.split(',');
  if (rest.length > 0 || min === undefined) throw new InvalidValueError('back-off', input, 'expected MIN or MIN,MAX, e.g. 1s,30s');
  const minMs = duration(min);
  const maxMs = max === undefined ? Math.max(minMs, DEFAULT_BACKOFF.maxMs) : duration(max);
  if (minMs <= 0) throw new InvalidValueError('back-off', input, 'MIN must be more than 0');
  if (maxMs < minMs) throw new InvalidValueError('back-off', input, 'MAX must be at least MIN');
  return { minMs, maxMs };
}
