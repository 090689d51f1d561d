import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WeightedChoice, seededRandom } from '../src/util/draw.js';
import { PayloadSource } from '../agents/payload.js';
import { meanPayloadBytes } from '../src/scenario/size.js';

describe('payloads', () => {
  it('hands out one string for a fixed size: nothing built per message', () => {
    const source = new PayloadSource({ kind: 'fixed', bytes: 300 }, seededRandom(1));
    const first = source.next();
    assert.equal(first.length, 300);
    for (let i = 0; i < 100; i++) assert.equal(source.next(), first);
    // No character JSON must escape: the size on the wire is the size asked for.
    assert.equal(JSON.stringify(first).length, 302);
  });

  it('draws a weighted list in proportion, from strings built once', () => {
    const sizes = {
      kind: 'weighted' as const,
      choices: [
        { bytes: 100, weight: 90 },
        { bytes: 5000, weight: 9 },
        { bytes: 70000, weight: 1 },
      ],
    };
    const source = new PayloadSource(sizes, seededRandom(7));
    const counts = new Map<number, number>();
    const distinct = new Set<string>();
    const draws = 20_000;
    for (let i = 0; i < draws; i++) {
      const payload = source.next();
      counts.set(payload.length, (counts.get(payload.length) ?? 0) + 1);
      distinct.add(payload);
    }
    assert.deepEqual(
      [...counts.keys()].sort((a, b) => a - b),
      [100, 5000, 70000],
    );
    for (const { bytes, weight } of sizes.choices) {
      const expected = (draws * weight) / 100;
      const sigma = Math.sqrt(draws * (weight / 100) * (1 - weight / 100));
      assert.ok(Math.abs(counts.get(bytes)! - expected) < 5 * sigma, `${bytes} B drawn ${counts.get(bytes)} times, expected about ${expected}`);
    }
    assert.equal(distinct.size, 3);
    assert.equal(meanPayloadBytes(sizes), 100 * 0.9 + 5000 * 0.09 + 70000 * 0.01);
  });

  it('draws uniform sizes over the whole range, ends included', () => {
    const source = new PayloadSource({ kind: 'uniform', min: 10, max: 20 }, seededRandom(3));
    const seen = new Set<number>();
    let sum = 0;
    for (let i = 0; i < 5000; i++) {
      const length = source.next().length;
      assert.ok(length >= 10 && length <= 20, `length ${length}`);
      seen.add(length);
      sum += length;
    }
    assert.equal(seen.size, 11);
    assert.ok(Math.abs(sum / 5000 - 15) < 0.3, `mean ${sum / 5000}`);
  });

  it('draws the same sequence from the same seed, another from another', () => {
    const draw = (seed: number): number[] => {
      const random = seededRandom(seed);
      return Array.from({ length: 8 }, () => random());
    };
    assert.deepEqual(draw(42), draw(42));
    assert.notDeepEqual(draw(42), draw(43));
    for (const u of draw(5)) assert.ok(u >= 0 && u < 1);
  });

  it('picks by weight at the edges of the cumulative table', () => {
    const choice = new WeightedChoice([1, 3]);
    assert.equal(choice.pick(0), 0);
    assert.equal(choice.pick(0.2499), 0);
    assert.equal(choice.pick(0.25), 1);
    assert.equal(choice.pick(0.9999), 1);
    assert.throws(() => new WeightedChoice([1, 0]), /weights must be > 0/);
  });
});
