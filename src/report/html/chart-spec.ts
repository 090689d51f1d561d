/**
 * The charts of a report as plain JSON: what the page's script hands to
 * uPlot. The report's data extraction fills these in Node; the browser
 * script only draws them, so every figure is computed once, here, and can be
 * checked without a browser.
 */

/**
 * How an axis is laid out. `percentile`: values are 1/(1−p), drawn on a log
 * scale and labelled as percentiles (2 → 50 %, 10 → 90 %, 100 → 99 % …), as
 * HdrHistogram's plotter draws a latency spectrum. `category`: values are
 * indices into `categories`.
 */
export type AxisScale = 'linear' | 'log' | 'percentile' | 'category';

export interface ChartAxis {
  label: string;
  scale: AxisScale;
  categories?: string[];
  /** pin the scale's lower end at 0 (counts and rates), and its upper end at least at 1 */
  fromZero?: boolean;
  /** ticks at exactly these values (a sweep's few parameter values) */
  ticks?: number[];
  /** ticks only at whole numbers (seconds, counts) */
  whole?: boolean;
  /** the scale's fixed range, when the data should not decide it */
  range?: [number, number];
  /** how legend values are printed: digits after the point */
  decimals?: number;
  /** appended to legend values */
  unit?: string;
}

export interface ChartSeries {
  label: string;
  /** one per x; null: nothing measured there (the line breaks) */
  values: (number | null)[];
  /** drawn dashed: a second figure of the same group (p99 beside p50) */
  dashed?: boolean;
  /** index into the page's palette; series of the same thing share it across charts */
  color: number;
}

/** A shaded stretch of the x axis: an outage or a link cut, in the x axis's unit. */
export interface ChartBand {
  from: number;
  to: number;
  label: string;
}

export interface LineChart {
  id: string;
  title: string;
  x: ChartAxis;
  y: ChartAxis;
  xs: number[];
  series: ChartSeries[];
  bands?: ChartBand[];
  /** draw a dot at each value: few x values (campaign sweeps) */
  points?: boolean;
}

/** One box of a boxplot, from a latency histogram, in ms. */
export interface BoxStats {
  label: string;
  color: number;
  count: number;
  p1: number;
  p25: number;
  p50: number;
  p75: number;
  p99: number;
  max: number;
}

/** What the page script reports back: charts found, charts drawn, and every error it met. */
export interface ReportStatus {
  charts: number;
  drawn: number;
  /** in closed <details>: drawn when opened */
  pending: number;
  empty: string[];
  errors: string[];
}
