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
}

/** Rows of the latency chart. */
const CHART_BUCKETS = 8;

/**
 * Round-trip times: percentiles from an HDR histogram (nanosecond input, 3 significant digits),
 * exact min/max/mean/stddev alongside (the histogram's own mean walks every bucket: tens of ms).
 */
export class RttRecorder {
  private count = 0;
  private min = Infinity;
  private max = 0;
  private mean = 0;
  private squares = 0; // Welford's running sum of squared deviations

  private constructor(private readonly histogram: Histogram) {}

  /**
   * Loads the histogram library on first use: commands that time nothing skip its start-up cost.
   * Not Node's perf_hooks.createHistogram: on the same samples it gives the same percentiles, but
   * it cannot export its counts, and merging runs from several hosts exactly needs the standard
   * lossless encoding (HDR's compressed base64), which hdr-histogram-js writes and reads.
   */
  static async create(): Promise<RttRecorder> {
    const hdr = await import('hdr-histogram-js');
    return new RttRecorder(hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 2, numberOfSignificantValueDigits: 3, autoResize: true }));
  }

  record(nanoseconds: number): void {
    if (!Number.isFinite(nanoseconds)) throw new RangeError(`round-trip time ${nanoseconds} ns is not a number`);
    const value = Math.max(1, Math.round(nanoseconds));
    this.histogram.recordValue(value);
    this.count++;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    const delta = value - this.mean;
    this.mean += delta / this.count;
    this.squares += delta * (value - this.mean);
  }

  summary(): RttSummary | null {
    if (this.count === 0) return null;
    const ms = (ns: number) => Math.round(ns / 1000) / 1000;
    // Bucket values can sit just outside the exact extremes; a p99 above the max reads as a bug.
    const at = (percentile: number) => ms(Math.min(this.max, Math.max(this.min, this.histogram.getValueAtPercentile(percentile))));
    return {
      count: this.count,
      min: ms(this.min),
      p50: at(50),
      p90: at(90),
      p99: at(99),
      p999: at(99.9),
      max: ms(this.max),
      mean: ms(this.mean),
      stddev: ms(Math.sqrt(this.squares / this.count)),
      buckets: this.buckets().map(({ to, share }) => ({ toMs: ms(to), share })),
    };
  }

  /**
   * Log-spaced buckets between min and max, filled from 1 000 quantiles of the histogram (each
   * stands for 0.1 % of the samples): the histogram keeps no raw samples to count.
   */
  private buckets(): Array<{ to: number; share: number }> {
    if (this.max <= this.min) return [{ to: this.max, share: 1 }];
    const ratio = (this.max / this.min) ** (1 / CHART_BUCKETS);
    const edges = Array.from({ length: CHART_BUCKETS }, (_, i) => this.min * ratio ** (i + 1));
    edges[CHART_BUCKETS - 1] = this.max;
    const counts = new Array<number>(CHART_BUCKETS).fill(0);
    for (let i = 0; i < 1000; i++) {
      const value = this.histogram.getValueAtPercentile((i + 0.5) / 10);
      const bucket = edges.findIndex((edge) => value <= edge);
      counts[bucket === -1 ? CHART_BUCKETS - 1 : bucket]!++;
    }
    return edges.map((to, i) => ({ to, share: counts[i]! / 1000 }));
  }
}
