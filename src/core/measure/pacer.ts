import { InvalidValueError } from '../errors.js';

/** --rate / --bitrate with --burst: so many units (datagrams, blocks) a second, `burst` at a time. */
export interface Pace {
  perSecond: number;
  burst: number;
}

/**
 * When each unit may go. Unit `i` is due at start + ⌊i / burst⌋ · burst / perSecond: the schedule
 * is kept against the clock, not as a sleep after each send, so a timer that wakes late (Node's
 * are 1 ms at best, later on a busy machine) is made up by sending what is due at once, and the
 * count over a run is the rate times its length, whatever the timers did.
 */
export class Pacer {
  private readonly started = performance.now();

  constructor(private readonly pace: Pace) {}

  /** Milliseconds until unit `index` (from 0) is due; 0 or less: now. */
  waitMs(index: number): number {
    const { perSecond, burst } = this.pace;
    return this.started + (Math.floor(index / burst) * burst * 1000) / perSecond - performance.now();
  }
}

/**
 * Waits `ms` (from Pacer.waitMs): a timer for a millisecond or more, else one turn of the event
 * loop, so that rates above 1000 a second are not held to the timer's millisecond.
 */
export function pause(ms: number): Promise<void> {
  if (ms >= 1) return new Promise((resolve) => setTimeout(resolve, ms));
  return new Promise((resolve) => setImmediate(resolve));
}

const SUFFIXES: Record<string, number> = { '': 1, k: 1e3, m: 1e6, g: 1e9 };

/** iperf3's -b: `10M`, `512k`, `1.5G`, `2000` bits per second (decimal units, as iperf3). */
export function parseBitrate(input: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([kmg]?)(?:bit\/s|bps|b)?$/i.exec(input.trim());
  const bits = match ? Number(match[1]) * SUFFIXES[match[2]!.toLowerCase()]! : NaN;
  if (!(bits >= 1) || !Number.isFinite(bits)) throw new InvalidValueError('bit rate', input, 'use bits per second as iperf3 -b does: 512k, 10M, 1G');
  return bits;
}

/** --rate: datagrams a second, a whole or decimal number above 0. */
export function parseRate(input: string): number {
  const rate = /^\d+(?:\.\d+)?$/.test(input.trim()) ? Number(input) : NaN;
  if (!(rate > 0) || !Number.isFinite(rate)) throw new InvalidValueError('rate', input, 'use datagrams per second above 0, e.g. 100 or 0.5');
  return rate;
}
