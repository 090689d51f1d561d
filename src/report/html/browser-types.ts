/**
 * The few browser and uPlot shapes the page script uses, declared here
 * because busbench compiles against Node's types only (no DOM library: it
 * would change the types of timers and events for all of busbench).
 */
import type { ReportStatus } from './chart-spec.js';

export interface PageElement {
  readonly tagName: string;
  readonly clientWidth: number;
  textContent: string | null;
  open?: boolean;
  getAttribute(name: string): string | null;
  setAttribute(name: string, value: string): void;
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): ArrayLike<PageElement>;
  closest(selector: string): PageElement | null;
  addEventListener(type: string, listener: () => void): void;
}

export interface PageDocument {
  getElementById(id: string): PageElement | null;
  querySelectorAll(selector: string): ArrayLike<PageElement>;
}

export interface PageWindow {
  __busbenchReport?: ReportStatus;
  readonly location: { readonly hash: string };
  addEventListener(type: 'error', listener: (event: { message: string; filename?: string; lineno?: number }) => void): void;
  addEventListener(type: 'unhandledrejection', listener: (event: { reason: unknown }) => void): void;
}

export interface Canvas2D {
  readonly canvas: { readonly width: number; readonly height: number };
  fillStyle: string;
  font: string;
  textAlign: string;
  textBaseline: string;
  save(): void;
  restore(): void;
  fillRect(x: number, y: number, width: number, height: number): void;
  fillText(text: string, x: number, y: number): void;
  getImageData(x: number, y: number, width: number, height: number): { readonly data: ArrayLike<number> };
}

export interface Plot {
  readonly ctx: Canvas2D;
  readonly bbox: { left: number; top: number; width: number; height: number };
  valToPos(value: number, scale: string, canvasPixels?: boolean): number;
}

type Hook = (plot: Plot, index: number) => void;

export interface PlotScale {
  time?: boolean;
  distr?: 1 | 3;
  log?: 10;
  range?: [number, number] | ((plot: Plot, min: number, max: number) => [number, number]);
}

export interface PlotAxis {
  label: string;
  stroke?: string;
  grid?: { stroke: string; width: number };
  ticks?: { stroke: string; width: number };
  size?: number;
  space?: number;
  incrs?: number[];
  splits?: (plot: Plot, axis: number, min: number, max: number) => number[];
  /** which splits get a label: uPlot's default for log axes labels only powers of ten */
  filter?: (plot: Plot, splits: number[]) => (number | null)[];
  /** uPlot passes null for the splits a log axis leaves unlabelled */
  values?: (plot: Plot, splits: (number | null)[]) => string[];
}

export interface PlotSeries {
  label: string;
  stroke?: string;
  width?: number;
  dash?: number[];
  spanGaps?: boolean;
  points?: { show: boolean; size?: number };
  value?: (plot: Plot, value: number | null) => string;
}

export interface PlotOptions {
  width: number;
  height: number;
  scales: Record<string, PlotScale>;
  axes: PlotAxis[];
  series: PlotSeries[];
  legend: { show: boolean };
  cursor: { drag: { x: boolean; y: boolean } };
  hooks: { drawAxes?: Hook[]; drawSeries?: Hook[]; draw?: Hook[] };
}

export type PlotConstructor = new (options: PlotOptions, data: (number | null)[][], target: PageElement) => Plot;

/** What the page hands the script: the browser's globals it uses. */
export interface PageEnv {
  window: PageWindow;
  document: PageDocument;
  uPlot: PlotConstructor;
  console: { error(...args: unknown[]): void };
}
