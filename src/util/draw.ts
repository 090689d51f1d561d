/**
 * Seeded random draws for the load generator: the same scenario draws the
 * same sizes and patterns in the same order on every run, so two runs that
 * differ only in the bus offered it the same work.
 */

/** mulberry32: a 32-bit generator, fast and good enough for picking sizes (not for secrets). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Picks an index by weight. Cumulative weights and a linear scan: mixes have a handful of entries. */
export class WeightedChoice {
  private readonly cumulative: Float64Array;
  private readonly total: number;

  constructor(weights: readonly number[]) {
    if (weights.length === 0) throw new Error('a weighted choice needs at least one weight');
    this.cumulative = new Float64Array(weights.length);
    let sum = 0;
    weights.forEach((weight, i) => {
      if (!(weight > 0)) throw new Error(`weights must be > 0, got ${weight}`);
      sum += weight;
      this.cumulative[i] = sum;
    });
    this.total = sum;
  }

  /** `u` in [0, 1). */
  pick(u: number): number {
    const x = u * this.total;
    const last = this.cumulative.length - 1;
    for (let i = 0; i < last; i++) if (x < this.cumulative[i]!) return i;
    return last;
  }
}
