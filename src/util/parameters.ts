/**
 * A campaign run's parameters as text: one canonical JSON per value (the
 * run ids and the matching of runs across campaigns rest on it), a short
 * description for people, and the grid point a repeat belongs to.
 */
import type { Parameters } from '../model/index.js';

/** The parameter a campaign's `repeat: N` records in each repeat's parameters (1 … N). */
export const REPEAT_PARAMETER = 'repeat';

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

/** A short text of a run's parameters, for progress lines and tables: clients=50 patterns=call/anycast. */
export function describeParameters(parameters: Parameters): string {
  return Object.entries(parameters)
    .map(([field, value]) => `${field.split('.').pop()}=${typeof value === 'string' ? value : canonicalJson(value)}`)
    .join(' ');
}

/** A run's parameters without its repeat number: equal for every repeat of one grid point. */
export function gridPoint(parameters: Parameters): Parameters {
  const { [REPEAT_PARAMETER]: _repeat, ...point } = parameters;
  return point;
}
