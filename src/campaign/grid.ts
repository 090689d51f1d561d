/**
 * A campaign's runs: the cartesian product of `grid`, advanced together
 * with the lists of `zip`, minus `exclude`. Each run is a set of field
 * overrides on the base scenario, and its id is a hash of them: the same
 * parameters give the same id on every machine and every rerun, which is
 * what lets a campaign skip the runs it has already finished.
 */
import { createHash } from 'node:crypto';
import { setField } from '../config/fields.js';
import type { Parameters } from '../model/index.js';

export { setField };

export interface GridSpec {
  grid?: Record<string, unknown[]>;
  zip?: Record<string, unknown[]>;
  exclude?: Parameters[];
}

export interface PlannedRun {
  id: string;
  /** position in the campaign (0-based), the order runs go in */
  index: number;
  parameters: Parameters;
}

/** JSON with keys sorted at every level: one text per value, whatever the key order it was written in. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

export function runId(parameters: Parameters): string {
  return createHash('sha256').update(canonicalJson(parameters)).digest('hex').slice(0, 12);
}

function matches(parameters: Parameters, exclusion: Parameters): boolean {
  return Object.entries(exclusion).every(([field, value]) => canonicalJson(parameters[field]) === canonicalJson(value));
}

export function expandGrid(spec: GridSpec): PlannedRun[] {
  const grid = Object.entries(spec.grid ?? {});
  const zip = Object.entries(spec.zip ?? {});
  const zipLength = zip.length > 0 ? zip[0]![1].length : 1;
  let combinations: Parameters[] = [{}];
  for (const [field, values] of grid) {
    combinations = combinations.flatMap((base) => values.map((value) => ({ ...base, [field]: value })));
  }
  if (zip.length > 0) {
    combinations = combinations.flatMap((base) =>
      Array.from({ length: zipLength }, (_, i) => ({ ...base, ...Object.fromEntries(zip.map(([field, values]) => [field, values[i]])) })),
    );
  }
  const kept = combinations.filter((parameters) => !(spec.exclude ?? []).some((exclusion) => matches(parameters, exclusion)));
  return kept.map((parameters, index) => ({ id: runId(parameters), index, parameters }));
}

/** Sets `field` (dotted) in a plain object, creating the mappings on the way. */
/** A short text of a run's parameters, for progress lines: clients=50 patterns=call/anycast. */
export function describeParameters(parameters: Parameters): string {
  return Object.entries(parameters)
    .map(([field, value]) => `${field.split('.').pop()}=${typeof value === 'string' ? value : canonicalJson(value)}`)
    .join(' ');
}
