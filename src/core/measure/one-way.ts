import type { OneWayCounts, OneWayStats } from '../events.js';
import type { Probe } from './probe.js';

/** A report datagram carries at most this many seconds: the body stays well under one Ethernet frame. */
export const REPORTED_SECONDS = 100;
/** Sequence numbers tracked exactly for duplicates (2 MiB of bits); beyond, a probe counts as new. */
const TRACKED_SEQ = 1 << 24;

/**
 * The receiving side of a probe stream (udp-server for --one-way, udp-client for --reverse):
 * loss, duplicates and reordering from the sequence numbers, jitter from the send times.
 */
export class ProbeReceiver {
  private seen = new Uint8Array(128);
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
    this.seconds[second] = (this.seconds[second] ?? 0) + 1;
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
      perSecond: perSecond.length <= REPORTED_SECONDS ? perSecond : [],
    };
  }

  /** Whether `seq` was seen before; marks it seen. */
  private mark(seq: number): boolean {
    if (seq >= TRACKED_SEQ) return false;
    const byte = seq >>> 3;
    if (byte >= this.seen.length) {
      const grown = new Uint8Array(Math.min(TRACKED_SEQ >>> 3, Math.max(this.seen.length * 2, byte + 1)));
      grown.set(this.seen);
      this.seen = grown;
    }
    const bit = 1 << (seq & 7);
    const was = (this.seen[byte]! & bit) !== 0;
    this.seen[byte]! |= bit;
    return was;
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
