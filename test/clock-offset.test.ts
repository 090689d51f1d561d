/**
 * NTP-style clock offset from probe round trips: synthetic clocks with a
 * known offset and lopsided, noisy delays.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { estimateClockOffset, type ClockSample } from '../src/metrics/clock-offset.js';

/** A seeded generator, so a failure reproduces. */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** A probe at coordinator time t0, legs of the given lengths; the other clock runs offset ms ahead. */
function probe(t0: number, out: number, back: number, offset: number): ClockSample {
  return { t0, t1: t0 + out + offset, t2: t0 + out + back };
}

describe('estimateClockOffset', () => {
  it('finds a known offset within its uncertainty despite asymmetric delays', () => {
    for (const [seed, offset] of [
      [1, 50],
      [2, -50],
      [3, 1234.5],
      [4, 0],
    ] as const) {
      const random = lcg(seed);
      const samples: ClockSample[] = [];
      for (let i = 0; i < 64; i++) {
        // The outbound leg is usually the slower one: a naive midpoint is biased.
        samples.push(probe(1_000 + i * 10, 0.2 + random() * 3, 0.1 + random() * 0.5, offset));
      }
      const estimate = estimateClockOffset(samples);
      assert.ok(Math.abs(estimate.offsetMs - offset) <= estimate.uncertaintyMs, `seed ${seed}: ${estimate.offsetMs} vs ${offset} ± ${estimate.uncertaintyMs}`);
      assert.equal(estimate.samples, 64);
      assert.equal(estimate.used, 16);
      assert.ok(estimate.uncertaintyMs < 2, `uncertainty ${estimate.uncertaintyMs}`);
      const minDelay = Math.min(...samples.map((s) => s.t2 - s.t0));
      assert.equal(estimate.minDelayMs, minDelay);
    }
  });

  it('ignores high-delay outliers', () => {
    const samples: ClockSample[] = [];
    for (let i = 0; i < 12; i++) samples.push(probe(i * 100, 0.5, 0.5, 50));
    // Probes stuck behind other work, one way only: their midpoints are far off.
    for (let i = 0; i < 36; i++) samples.push(probe(5_000 + i * 100, 200 + i, 0.5, 50));
    const estimate = estimateClockOffset(samples);
    assert.equal(estimate.offsetMs, 50);
    assert.equal(estimate.uncertaintyMs, 0.5);
    assert.equal(estimate.used, 12);
  });

  it('works with one sample', () => {
    const estimate = estimateClockOffset([{ t0: 100, t1: 160, t2: 104 }]);
    assert.deepEqual(estimate, { offsetMs: 58, uncertaintyMs: 2, samples: 1, used: 1, minDelayMs: 4 });
  });

  it('keeps the lowest quarter, at least one, and takes their median', () => {
    // Delays 1, 2, 3, 4, … : with 8 samples the two quickest are kept, estimates 10 and 20.
    const samples = Array.from({ length: 8 }, (_, i) => ({ t0: 0, t1: (i + 1) / 2 + (i + 1) * 10, t2: i + 1 }));
    const estimate = estimateClockOffset(samples.reverse());
    assert.equal(estimate.used, 2);
    assert.equal(estimate.offsetMs, 15);
    assert.equal(estimate.uncertaintyMs, 1);
    assert.equal(estimateClockOffset(samples.slice(0, 3)).used, 1);
  });

  it('throws on bad input', () => {
    assert.throws(() => estimateClockOffset([]), /no samples/);
    assert.throws(() => estimateClockOffset([{ t0: 10, t1: 5, t2: 9 }]), /before it was asked/);
    assert.throws(
      () =>
        estimateClockOffset([
          { t0: 0, t1: 1, t2: 2 },
          { t0: 10, t1: 5, t2: 9 },
        ]),
      /before it was asked/,
    );
    assert.throws(() => estimateClockOffset([{ t0: 0, t1: Number.NaN, t2: 2 }]), /non-finite/);
  });
});
