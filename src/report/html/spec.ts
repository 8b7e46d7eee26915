// Types only: a chart as the report's browser script draws it (draw.js reads this shape).

export interface ChartSpec {
  /** Stable name of the chart, e.g. `rtt-percentiles` (tests look charts up by it). */
  id: string;
  title: string;
  /** One line under the chart: how to read it. */
  note: string;
  x: Axis & {
    /** Fixed ticks: [value, label]; the chart's own ticks otherwise. */
    ticks?: Array<[number, string]>;
  };
  y: Axis;
  series: SeriesSpec[];
}

export interface Axis {
  label: string;
  /** A logarithmic scale (every value > 0). */
  log?: boolean;
}

export interface SeriesSpec {
  label: string;
  color: string;
  style: 'line' | 'step' | 'bars-left' | 'bars-right';
  /** Ascending; each series has its own, the browser joins them on x. */
  xs: number[];
  ys: Array<number | null>;
  fill?: boolean;
  dash?: boolean;
}
