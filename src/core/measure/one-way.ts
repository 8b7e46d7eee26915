import type { OneWayCounts, OneWayStats } from '../events.js';
import type { Probe } from './probe.js';

/** A report datagram carries at most this many seconds: the body stays well under one Ethernet frame. */
export const REPORTED_SECONDS = 100;
/**
 * Duplicates are told apart within this many sequence numbers below the highest seen (a ring of
 * bits, 8 KiB per sender): a probe older than that counts as reordered. A sender's numbers cost
 * the receiver a fixed amount of memory, whatever they are.
 */
const WINDOW = 1 << 16;

/**
 * The receiving side of a probe stream (udp-server for --one-way, udp-client for --reverse):
 * loss, duplicates and reordering from the sequence numbers, jitter from the send times.
 */
export class ProbeReceiver {
  /** Bit `seq % WINDOW`: seen, for the WINDOW numbers up to the highest. */
  private readonly seen = new Uint8Array(WINDOW >>> 3);
  private received = 0;
  private bytes = 0;
  private duplicated = 0;
  private reordered = 0;
  private highest = 0;
  private first: number | null = null;
  private last = 0;
  private lastTransit: number | null = null;
  private jitter = 0;
  private readonly seconds: number[] = [];
  /** The run outlasted REPORTED_SECONDS: no seconds are reported (nor kept). */
  private longRun = false;

  receive(probe: Probe, length: number, now: number): 'new' | 'duplicate' | 'reordered' {
    if (this.mark(probe.seq)) {
      this.duplicated++;
      return 'duplicate';
    }
    this.received++;
    this.bytes += length;
    this.first ??= now;
    this.last = now;
    const second = Math.floor((now - this.first) / 1000);
    if (second >= REPORTED_SECONDS) this.longRun = true;
    else this.seconds[second] = (this.seconds[second] ?? 0) + 1;
    // RFC 3550 §6.4.1: D is the change in transit time between two arrivals; J += (|D| - J) / 16.
    const transit = now - probe.sentAtMs;
    if (this.lastTransit !== null) this.jitter += (Math.abs(transit - this.lastTransit) - this.jitter) / 16;
    this.lastTransit = transit;
    const late = probe.seq < this.highest;
    if (late) this.reordered++;
    else this.highest = probe.seq;
    return late ? 'reordered' : 'new';
  }

  counts(): OneWayCounts {
    const perSecond = Array.from({ length: this.seconds.length }, (_, i) => this.seconds[i] ?? 0);
    return {
      received: this.received, bytes: this.bytes, duplicated: this.duplicated, reordered: this.reordered, highestSeq: this.highest,
      jitterMs: this.received > 1 ? round3(this.jitter) : null,
      spanMs: this.first === null ? 0 : round3(this.last - this.first),
      perSecond: this.longRun ? [] : perSecond,
    };
  }

  /** Whether `seq` was seen before (within the window); marks it seen. */
  private mark(seq: number): boolean {
    if (seq > this.highest) {
      // The window moves up to `seq`: the numbers it leaves behind free their bits.
      if (seq - this.highest >= WINDOW) this.seen.fill(0);
      else for (let n = this.highest + 1; n <= seq; n++) this.flip(n, false);
    } else if (this.highest - seq >= WINDOW) {
      return false; // too old to tell: counted as reordered
    }
    const was = this.bit(seq);
    this.flip(seq, true);
    return was;
  }

  private bit(seq: number): boolean {
    const at = seq % WINDOW;
    return (this.seen[at >>> 3]! & (1 << (at & 7))) !== 0;
  }

  private flip(seq: number, on: boolean): void {
    const at = seq % WINDOW;
    if (on) this.seen[at >>> 3]! |= 1 << (at & 7);
    else this.seen[at >>> 3]! &= ~(1 << (at & 7));
  }
}

/** The receiver's counts with the sender's total: loss, and the rate the receiver saw. */
export function oneWayStats(direction: OneWayStats['direction'], counts: OneWayCounts, sent: number | null): OneWayStats {
  const expected = sent ?? counts.highestSeq;
  const lost = Math.max(0, expected - counts.received);
  return {
    direction, sent, ...counts, lost,
    lossPercent: expected === 0 ? 0 : Math.round((lost / expected) * 1e5) / 1e3,
    bitsPerSecond: counts.spanMs > 0 ? Math.round((counts.bytes * 8 * 1000) / counts.spanMs) : 0,
  };
}

/** Whether `value` (a report's parsed body) has every field of OneWayCounts. */
export function isOneWayCounts(value: Record<string, unknown> | null): value is Record<string, unknown> & OneWayCounts {
  if (!value) return false;
  const numbers = ['received', 'bytes', 'duplicated', 'reordered', 'highestSeq', 'spanMs'];
  return numbers.every((key) => typeof value[key] === 'number')
    && (value.jitterMs === null || typeof value.jitterMs === 'number')
    && Array.isArray(value.perSecond) && value.perSecond.every((n) => typeof n === 'number');
}

const round3 = (value: number): number => Math.round(value * 1000) / 1000;
