/**
 * Where to try next when looking for the highest rate that holds an
 * objective: multiply the rate while it holds, divide while it fails from
 * the start, then halve the gap between the best rate that held and the
 * lowest that failed until it is within the precision asked for.
 */
import type { SearchEnd, SearchSettings } from '../model/index.js';

export class RateSearch {
  /** highest rate that held the objective */
  holding: number | undefined;
  /** lowest rate that failed it */
  failing: number | undefined;
  steps = 0;
  private rate: number;

  constructor(private readonly settings: SearchSettings) {
    if (!(settings.factor > 1)) throw new Error(`the step factor must be > 1, got ${settings.factor}`);
    if (!(settings.precision > 0)) throw new Error(`the precision must be > 0, got ${settings.precision}`);
    this.rate = settings.maxRate !== undefined ? Math.min(settings.startRate, settings.maxRate) : settings.startRate;
  }

  /** The rate to try now. */
  get current(): number {
    return this.rate;
  }

  /** Records whether the current rate held; returns the next rate, or why the search is over. */
  record(held: boolean): { next: number } | { end: SearchEnd } {
    const { factor, precision, maxRate, minRate, maxSteps } = this.settings;
    this.steps++;
    if (held) this.holding = Math.max(this.holding ?? 0, this.rate);
    else this.failing = Math.min(this.failing ?? Infinity, this.rate);
    let next: number;
    if (this.failing === undefined) {
      if (maxRate !== undefined && this.rate >= maxRate) return { end: 'held-at-max-rate' };
      next = maxRate !== undefined ? Math.min(this.rate * factor, maxRate) : this.rate * factor;
    } else if (this.holding === undefined) {
      if (this.rate <= minRate) return { end: 'failed-at-min-rate' };
      next = Math.max(this.rate / factor, minRate);
    } else {
      if ((this.failing - this.holding) / this.holding <= precision) return { end: 'bracketed' };
      next = (this.holding + this.failing) / 2;
    }
    if (this.steps >= maxSteps) return { end: 'out-of-steps' };
    const rounded = roundRate(next);
    // Three figures cannot split the gap any further: it is as narrow as rates are written.
    if (rounded === this.holding || rounded === this.failing) return { end: 'bracketed' };
    this.rate = rounded;
    return { next: this.rate };
  }
}

/** Three significant figures (1234.5 → 1230, 0.12345 → 0.123): rates people can read and type back in. */
export function roundRate(rate: number): number {
  return rate > 0 ? Number(rate.toPrecision(3)) : rate;
}
