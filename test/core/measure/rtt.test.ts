// The round-trip summary against numbers computed here from the samples themselves: nearest-rank
// percentiles of the sorted samples, the exact mean and standard deviation, and the chart's
// shares counted sample by sample; merged summaries against one recorder of all their samples.
import { describe, expect, it } from 'vitest';
import { RttRecorder, type RttSummary } from '../../../src/core/measure/rtt.js';
import { nearestRank } from '../../support/rtt.js';

async function summarise(nanoseconds: number[]): Promise<RttSummary> {
  const recorder = await RttRecorder.create();
  for (const ns of nanoseconds) recorder.record(ns);
  const summary = recorder.summary();
  expect(summary).not.toBeNull();
  return summary!;
}

/** |reported − expected| within what the summary promises: 3 significant digits, shown to the microsecond. */
function expectWithinHistogramPrecision(reportedMs: number, expectedNs: number, label: string): void {
  const expectedMs = expectedNs / 1e6;
  expect(reportedMs, `${label}: ${reportedMs} ms for ${expectedMs} ms`).toBeGreaterThanOrEqual(expectedMs - 0.0005);
  expect(reportedMs, `${label}: ${reportedMs} ms for ${expectedMs} ms`).toBeLessThanOrEqual(expectedMs * (1 + 1 / 1024) + 0.0005);
}

/** Exact to the microsecond the summary rounds to. */
function expectMicrosecond(reportedMs: number, expectedNs: number, label: string): void {
  expect(Math.abs(reportedMs - expectedNs / 1e6), `${label}: ${reportedMs} ms for ${expectedNs / 1e6} ms`).toBeLessThanOrEqual(0.0005 + 1e-9);
}

describe('RttRecorder', () => {
  it('has no summary before the first sample', async () => {
    expect((await RttRecorder.create()).summary()).toBeNull();
  });

  it('refuses a round-trip time that is not a number', async () => {
    const recorder = await RttRecorder.create();
    expect(() => recorder.record(Number.NaN)).toThrow(new RangeError('round-trip time NaN ns is not a number'));
    expect(() => recorder.record(Number.POSITIVE_INFINITY)).toThrow(new RangeError('round-trip time Infinity ns is not a number'));
    expect(recorder.summary()).toBeNull();
  });

  // 1 000 distinct samples from 1 µs to 1 s (i² µs): every percentile falls on a different one.
  const spread = Array.from({ length: 1000 }, (_, i) => (i + 1) ** 2 * 1000);

  it('percentiles are the nearest-rank samples of the sorted list, to 3 significant digits', async () => {
    const shuffled = [...spread].sort((a, b) => ((a * 7919) % 1009) - ((b * 7919) % 1009));
    const summary = await summarise(shuffled);
    const sorted = [...spread].sort((a, b) => a - b);
    for (const [field, percentile] of [['p50', 50], ['p90', 90], ['p99', 99], ['p999', 99.9]] as const) {
      expectWithinHistogramPrecision(summary[field], nearestRank(sorted, percentile), field);
    }
    // The ranks are 500, 900, 990 and 999: far enough apart that a percentile asked for the wrong way shows.
    expect(summary.p50).toBeCloseTo(250.0, 0);
    expect(summary.p90).toBeCloseTo(810.0, 0);
    expect(summary.p99).toBeCloseTo(980.1, 0);
    expect(summary.p999).toBeCloseTo(998.0, 0);
  });

  it('count, min, max, mean and stddev are exact (population stddev), to the microsecond', async () => {
    const samples = [250_400, 180_000, 9_999_999, 1_000_001, 733_333, 180_000];
    const summary = await summarise(samples);
    const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
    const stddev = Math.sqrt(samples.reduce((a, b) => a + (b - mean) ** 2, 0) / samples.length);
    expect(summary.count).toBe(6);
    expectMicrosecond(summary.min, 180_000, 'min');
    expectMicrosecond(summary.max, 9_999_999, 'max');
    expectMicrosecond(summary.mean, mean, 'mean');
    expectMicrosecond(summary.stddev, stddev, 'stddev');
    expect(summary.min).toBe(0.18);
    expect(summary.max).toBe(10);
  });

  it('records fractions of a nanosecond rounded, and nothing below 1 ns (the scale of the chart starts there)', async () => {
    // 2 000 499.6 ns rounds to 2 000 500 ns, which shows as 2.001 ms; unrounded it would show as 2.000.
    const summary = await summarise([0.4, 2_000_499.6]);
    expect(summary.min).toBe(0);
    expect(summary.max).toBe(2.001);
    expectMicrosecond(summary.mean, (1 + 2_000_500) / 2, 'mean');
    // A 0 ns minimum would make the log-spaced bounds 0 × ∞.
    expect(summary.buckets.map((b) => b.share)).toEqual([0.5, 0, 0, 0, 0, 0, 0, 0.5]);
    expect(summary.buckets.every((b) => Number.isFinite(b.toMs))).toBe(true);
  });

  it('never reports a percentile outside [min, max]: histogram buckets reach past the samples', async () => {
    // 256 001 ns sits in a bucket 128 ns wide: the histogram's own p99.9 is above the max.
    const summary = await summarise([100_003, 256_001, 256_001, 256_001]);
    expect(summary.max).toBe(0.256);
    for (const field of ['p50', 'p90', 'p99', 'p999'] as const) expect(summary[field], field).toBe(0.256);
    expect((await summarise([100_003, 100_003, 256_001])).p50).toBe(0.1);
  });

  it('percentiles() (--report-every): none before the first sample, then the median and p99 a summary shows', async () => {
    const recorder = await RttRecorder.create();
    expect(recorder.percentiles()).toBeNull();
    for (const ns of spread) recorder.record(ns);
    const sorted = [...spread].sort((a, b) => a - b);
    const { p50, p99 } = recorder.percentiles()!;
    expectWithinHistogramPrecision(p50, nearestRank(sorted, 50), 'p50');
    expectWithinHistogramPrecision(p99, nearestRank(sorted, 99), 'p99');
    expect(recorder.percentiles()).toStrictEqual({ p50: recorder.summary()!.p50, p99: recorder.summary()!.p99 });
  });

  it('percentiles() stay within the samples too: the bucket of 256 400 ns reaches 256 511 ns, which would show as 0.257', async () => {
    const recorder = await RttRecorder.create();
    for (const ns of [100_003, 256_400, 256_400, 256_400]) recorder.record(ns);
    expect(recorder.percentiles()).toStrictEqual({ p50: 0.256, p99: 0.256 });
    recorder.record(100_003);
    recorder.record(100_003);
    // Nearest rank 3 of 6 is the third smallest: 100 003 ns.
    expect(recorder.percentiles()).toStrictEqual({ p50: 0.1, p99: 0.256 });
  });

  it('one value (or all equal): one bucket holding every sample', async () => {
    const summary = await summarise([42_000, 42_000, 42_000]);
    expect(summary).toMatchObject({ count: 3, min: 0.042, p50: 0.042, p90: 0.042, p99: 0.042, p999: 0.042, max: 0.042, mean: 0.042, stddev: 0, buckets: [{ toMs: 0.042, share: 1 }] });
  });

  it("the chart's 8 buckets are log-spaced from min to max, each with the share of samples at or below its bound", async () => {
    // min 1 µs, max 256 µs: bounds 2, 4, 8 … 256 µs. 2 000 ns is a bound itself (at or below it
    // counts); the histogram keeps values under 2 048 ns exact and rounds larger ones up a little.
    const samples = [
      1_000, ...new Array<number>(99).fill(2_000),
      ...new Array<number>(200).fill(3_000), ...new Array<number>(300).fill(5_000),
      ...new Array<number>(399).fill(100_000), 256_000,
    ];
    const summary = await summarise(samples);
    const bounds = [2, 4, 8, 16, 32, 64, 128, 256].map((us) => us * 1000);
    const counted = bounds.map((bound, i) => samples.filter((s) => s <= bound && (i === 0 || s > bounds[i - 1]!)).length / samples.length);
    expect(counted).toEqual([0.1, 0.2, 0.3, 0, 0, 0, 0.399, 0.001]);
    expect(summary.buckets).toEqual(bounds.map((bound, i) => ({ toMs: bound / 1e6, share: counted[i] })));
  });

  it('summaries merge into what one recorder of all their samples shows, with the exact sums of the samples', async () => {
    // Three parts of the spread above: the first holds the max, the second the min, the third neither.
    const parts = [spread.slice(600), spread.slice(0, 250), spread.slice(250, 600)];
    const merged = (await RttRecorder.merge(await Promise.all(parts.map(summarise)))).summary()!;
    const { histogram: _merged, ...shown } = merged;
    const { histogram: _single, ...single } = await summarise(spread);
    expect(shown).toEqual(single);
    expect(merged).toMatchObject({ count: 1000, min: 0.001, max: 1000 });
    expect(merged.sumNs).toBe(spread.reduce((sum, ns) => sum + BigInt(ns), 0n).toString());
    expect(merged.sumSquaresNs).toBe(spread.reduce((sum, ns) => sum + BigInt(ns) ** 2n, 0n).toString());
  });

  it('a summary whose histogram does not decode is a RangeError that says why', async () => {
    const part = await summarise([1_000]);
    await expect(RttRecorder.merge([part, { ...part, histogram: 'not a histogram' }]))
      .rejects.toStrictEqual(new RangeError('an RTT histogram does not decode (Invalid string. Length must be a multiple of 4)'));
  });
});
