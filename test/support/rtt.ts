// Round-trip figures computed from the samples themselves, to check what netnote reports against:
// nearest-rank percentiles, exact mean and standard deviation, RFC 3550 jitter.
import { expect } from 'vitest';
import type { RttSummary } from '../../src/core/measure/rtt.js';

/** The smallest sample with at least `percentile` % of the samples at or below it. */
export function nearestRank(sorted: number[], percentile: number): number {
  // 0.999 × 1000 is 999.0000000000001 in floating point: not a reason to take the next sample.
  return sorted[Math.max(1, Math.ceil((percentile / 100) * sorted.length - 1e-9)) - 1]!;
}

/**
 * A run's RTT summary against the per-message `rttMs` of the same run (each already rounded to the
 * microsecond): percentiles to the histogram's 3 significant digits, the rest to about a microsecond.
 */
export function expectRttMatchesSamples(rtt: RttSummary | null | undefined, samplesMs: number[]): void {
  expect(rtt, 'no rtt summary').toBeTruthy();
  const r = rtt!;
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const context = (field: string, expected: number) => `${field}: reported ${r[field as keyof RttSummary]}, computed ${expected} from ${sorted.length} samples`;
  expect(r.count).toBe(sorted.length);
  // The summary rounds to the nanosecond, then to the microsecond; a recv event straight to the
  // microsecond: the two can differ by the last digit (53.4996 µs shows as 0.053, then 0.054 ms).
  expect(Math.abs(r.min - sorted[0]!), context('min', sorted[0]!)).toBeLessThanOrEqual(0.001 + 1e-9);
  expect(Math.abs(r.max - sorted.at(-1)!), context('max', sorted.at(-1)!)).toBeLessThanOrEqual(0.001 + 1e-9);
  for (const [field, percentile] of [['p50', 50], ['p90', 90], ['p99', 99], ['p999', 99.9]] as const) {
    const expected = nearestRank(sorted, percentile);
    expect(r[field], context(field, expected)).toBeGreaterThanOrEqual(expected - 0.0005);
    expect(r[field], context(field, expected)).toBeLessThanOrEqual(expected * (1 + 1 / 1024) + 0.0015);
  }
  const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
  const stddev = Math.sqrt(sorted.reduce((a, b) => a + (b - mean) ** 2, 0) / sorted.length);
  // Each sample was rounded to the microsecond before we saw it, and so was each result.
  expect(Math.abs(r.mean - mean), context('mean', mean)).toBeLessThanOrEqual(0.0015);
  expect(Math.abs(r.stddev - stddev), context('stddev', stddev)).toBeLessThanOrEqual(0.0015);
}

/** RFC 3550 §6.4.1 interarrival jitter over a sequence of round-trip times: J += (|D| − J) / 16. */
export function rfc3550Jitter(rtts: number[]): number {
  let jitter = 0;
  for (let i = 1; i < rtts.length; i++) jitter += (Math.abs(rtts[i]! - rtts[i - 1]!) - jitter) / 16;
  return jitter;
}
