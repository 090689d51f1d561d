/**
 * Payloads without per-message allocation: one string of the largest size
 * is built when the agent starts, and every message takes a prefix of it.
 * A fixed size or a weighted list hands out the same few strings over and
 * over; a uniform size takes a slice, which V8 makes in constant time
 * without copying the characters. Sizes are in bytes: the payload is ASCII.
 */
import { largestPayloadBytes } from '../src/scenario/size.js';
import type { PayloadSizes } from '../src/model/index.js';
import { WeightedChoice } from '../src/util/draw.js';

/** The filler: printable, no characters JSON must escape, not one repeated byte (some transports compress runs). */
const PATTERN = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** A flat one-byte string (Buffer → latin1), so prefixes of it are O(1) slices, not copies of a rope. */
function filler(bytes: number): string {
  return Buffer.alloc(bytes, PATTERN, 'latin1').toString('latin1');
}

export class PayloadSource {
  private readonly base: string;
  private readonly choices: string[];
  private readonly choice: WeightedChoice | undefined;
  private readonly min: number;
  private readonly span: number;

  constructor(
    readonly sizes: PayloadSizes,
    private readonly random: () => number,
  ) {
    this.base = filler(largestPayloadBytes(sizes));
    this.choices = sizes.kind === 'weighted' ? sizes.choices.map((c) => this.base.slice(0, c.bytes)) : [this.base];
    this.choice = sizes.kind === 'weighted' && sizes.choices.length > 1 ? new WeightedChoice(sizes.choices.map((c) => c.weight)) : undefined;
    this.min = sizes.kind === 'uniform' ? sizes.min : 0;
    this.span = sizes.kind === 'uniform' ? sizes.max - sizes.min + 1 : 0;
  }

  /** The payload of the next message. */
  next(): string {
    if (this.span > 0) return this.base.slice(0, this.min + Math.floor(this.random() * this.span));
    if (this.choice) return this.choices[this.choice.pick(this.random())]!;
    return this.choices[0]!;
  }
}
