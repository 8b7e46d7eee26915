import type { Histogram } from 'hdr-histogram-js';

export interface RttSummary {
  count: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
  stddev: number;
  /** The distribution for a chart: log-spaced buckets up to `toMs`, each with its share (0–1) of the samples. */
  buckets: Array<{ toMs: number; share: number }>;
  /** The HDR histogram itself (nanoseconds), in HdrHistogram's compressed base64 form: what `merge` adds up. */
  histogram: string;
  /** Exact sums of the samples and of their squares, in ns, as decimal strings (they outgrow 2^53): exact mean and stddev across merged runs. */
  sumNs: string;
  sumSquaresNs: string;
}

/** Rows of the latency chart. */
const CHART_BUCKETS = 8;

export type Hdr = typeof import('hdr-histogram-js');

let hdrModule: Promise<Hdr> | null = null;
/**
 * The HDR histogram library, loaded once on first use: commands that time nothing skip its
 * start-up cost. Not Node's
 * perf_hooks.createHistogram: on the same samples it gives the same percentiles, but it cannot
 * export its counts, and merging runs from several hosts exactly needs the standard lossless
 * encoding (HDR's compressed base64), which hdr-histogram-js writes and reads.
 */
export const loadHdr = (): Promise<Hdr> => (hdrModule ??= import('hdr-histogram-js'));

const newHistogram = (hdr: Hdr): Histogram =>
  hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 2, numberOfSignificantValueDigits: 3, autoResize: true });

/** A histogram from its base64 form; a string that is not one is a RangeError, whatever the library throws. */
function decode(hdr: Hdr, base64: string): Histogram {
  try {
    return hdr.decodeFromCompressedBase64(base64);
  } catch (err) {
    throw new RangeError(`an RTT histogram does not decode (${err instanceof Error ? err.message : String(err)})`);
  }
}

/** Nanoseconds to milliseconds, rounded to the microsecond: every figure a summary shows. */
const ms = (ns: number): number => Math.round(ns / 1000) / 1000;

/**
 * Round-trip times: percentiles from an HDR histogram (nanosecond input, 3 significant digits),
 * exact count, min, max, mean and stddev alongside (the histogram's own mean walks every bucket:
 * tens of ms). Everything a summary shows is computed from the histogram, the exact sums and the
 * extremes rounded to the microsecond, so that recorders merged from summaries (`merge`) show
 * exactly what one recorder of all the samples shows.
 */
export class RttRecorder {
  private count = 0;
  private min = Infinity;
  private max = 0;
  private sum = 0n;
  private squares = 0n;

  private constructor(private readonly hdr: Hdr, private readonly histogram: Histogram) {}

  static async create(): Promise<RttRecorder> {
    const hdr = await loadHdr();
    return new RttRecorder(hdr, newHistogram(hdr));
  }

  /** One recorder holding the samples of every summary given: what one run of them all would show. */
  static async merge(parts: RttSummary[]): Promise<RttRecorder> {
    const hdr = await loadHdr();
    const merged = new RttRecorder(hdr, newHistogram(hdr));
    for (const part of parts) {
      merged.histogram.add(decode(hdr, part.histogram));
      merged.count += part.count;
      // Summaries carry the extremes to the microsecond, which is all summary() uses of them.
      merged.min = Math.min(merged.min, Math.round(part.min * 1e6));
      merged.max = Math.max(merged.max, Math.round(part.max * 1e6));
      merged.sum += BigInt(part.sumNs);
      merged.squares += BigInt(part.sumSquaresNs);
    }
    return merged;
  }

  record(nanoseconds: number): void {
    if (!Number.isFinite(nanoseconds)) throw new RangeError(`round-trip time ${nanoseconds} ns is not a number`);
    const value = Math.max(1, Math.round(nanoseconds));
    this.histogram.recordValue(value);
    this.count++;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    const big = BigInt(value);
    this.sum += big;
    this.squares += big * big;
  }

  /** The median and the 99th percentile so far (--report-every), without the rest of a summary's work. */
  percentiles(): { p50: number; p99: number } | null {
    if (this.count === 0) return null;
    const at = (percentile: number) => ms(Math.min(this.max, Math.max(this.min, this.histogram.getValueAtPercentile(percentile))));
    return { p50: at(50), p99: at(99) };
  }

  summary(): RttSummary | null {
    if (this.count === 0) return null;
    // The extremes as a summary shows them; a merged recorder knows no more than that.
    const min = Math.round(this.min / 1000) * 1000;
    const max = Math.round(this.max / 1000) * 1000;
    // Bucket values can sit just outside the exact extremes; a p99 above the max reads as a bug.
    const at = (percentile: number) => ms(Math.min(max, Math.max(min, this.histogram.getValueAtPercentile(percentile))));
    const n = BigInt(this.count);
    // n·Σx² − (Σx)² is exact in integers; only the last division and root are floating point.
    const variance = Number(n * this.squares - this.sum * this.sum) / (this.count * this.count);
    return {
      count: this.count,
      min: ms(min),
      p50: at(50),
      p90: at(90),
      p99: at(99),
      p999: at(99.9),
      max: ms(max),
      mean: ms(Number(this.sum) / this.count),
      stddev: ms(Math.sqrt(variance)),
      buckets: this.buckets(min, max).map(({ to, share }) => ({ toMs: ms(to), share })),
      histogram: this.hdr.encodeIntoCompressedBase64(this.histogram),
      sumNs: this.sum.toString(),
      sumSquaresNs: this.squares.toString(),
    };
  }

  /**
   * Log-spaced buckets between min and max, filled from 1 000 quantiles of the histogram (each
   * stands for 0.1 % of the samples): the histogram keeps no raw samples to count.
   */
  private buckets(min: number, max: number): Array<{ to: number; share: number }> {
    if (max <= min) return [{ to: max, share: 1 }];
    const ratio = (max / Math.max(min, 1)) ** (1 / CHART_BUCKETS);
    const edges = Array.from({ length: CHART_BUCKETS }, (_, i) => Math.max(min, 1) * ratio ** (i + 1));
    edges[CHART_BUCKETS - 1] = max;
    const counts = new Array<number>(CHART_BUCKETS).fill(0);
    for (let i = 0; i < 1000; i++) {
      const value = this.histogram.getValueAtPercentile((i + 0.5) / 10);
      const bucket = edges.findIndex((edge) => value <= edge);
      counts[bucket === -1 ? CHART_BUCKETS - 1 : bucket]!++;
    }
    return edges.map((to, i) => ({ to, share: counts[i]! / 1000 }));
  }
}
