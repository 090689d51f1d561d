import type { PayloadSizes } from '../model/index.js';

/** Sizes as people write them in scenarios and flags: 512, "512B", "4KiB", "1.5MB", "2MiB". */

const UNITS: Record<string, number> = { b: 1, kb: 1000, kib: 1024, mb: 1_000_000, mib: 1024 * 1024 };

export const SIZE_PATTERN = '^\\s*\\d+(\\.\\d+)?\\s*([bB]|[kKmM][iI]?[bB])?\\s*$';

/** Bytes, rounded down to a whole byte. */
export function parseSize(value: string | number): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new Error(`a size must be a number of bytes >= 0, got ${value}`);
    return Math.floor(value);
  }
  const match = new RegExp(SIZE_PATTERN).exec(value);
  if (!match) throw new Error(`"${value}" is not a size: write e.g. 512, 512B, 4KiB, 1MB`);
  const number = /\d+(\.\d+)?/.exec(value)![0];
  return Math.floor(Number(number) * UNITS[(match[2] ?? 'b').toLowerCase()]!);
}

/** The largest payload a run sends: what an agent builds its one payload string for, and what validation bounds. */
export function largestPayloadBytes(sizes: PayloadSizes): number {
  if (sizes.kind === 'fixed') return sizes.bytes;
  if (sizes.kind === 'uniform') return sizes.max;
  return Math.max(...sizes.choices.map((c) => c.bytes));
}

/** Mean payload size in bytes, for describing a run. */
export function meanPayloadBytes(sizes: PayloadSizes): number {
  if (sizes.kind === 'fixed') return sizes.bytes;
  if (sizes.kind === 'uniform') return (sizes.min + sizes.max) / 2;
  const total = sizes.choices.reduce((sum, c) => sum + c.weight, 0);
  return sizes.choices.reduce((sum, c) => sum + (c.bytes * c.weight) / total, 0);
}

export function formatSize(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)}MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024}KiB`;
  return `${bytes}B`;
}
