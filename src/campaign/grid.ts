/**
 * A campaign's runs: the cartesian product of `grid`, advanced together
 * with the lists of `zip`, minus `exclude`, each run `repeat` times. Each
 * run is a set of field overrides on the base scenario, and its id is a
 * hash of them: the same parameters give the same id on every machine and
 * every rerun, which is what lets a campaign skip the runs it has already
 * finished. A repeat k > 1 of a grid point is that id plus `-r<k>`, and
 * every repeat's parameters say `repeat: k` (not a scenario field: dotted
 * fields are), so readers can tell repeats of one point from other points.
 */
import { createHash } from 'node:crypto';
import { setField } from '../config/fields.js';
import type { Parameters } from '../model/index.js';
import { REPEAT_PARAMETER, canonicalJson, describeParameters, gridPoint } from '../util/parameters.js';

export { REPEAT_PARAMETER, canonicalJson, describeParameters, gridPoint };

export { setField };

export interface GridSpec {
  grid?: Record<string, unknown[]>;
  zip?: Record<string, unknown[]>;
  exclude?: Parameters[];
  /** runs of each grid point, 1 when absent */
  repeat?: number;
}

export interface PlannedRun {
  id: string;
  /** position in the campaign (0-based), the order runs go in */
  index: number;
  parameters: Parameters;
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
  const repeat = spec.repeat ?? 1;
  if (repeat === 1) return kept.map((parameters, index) => ({ id: runId(parameters), index, parameters }));
  // Round by round, every point once per round: drift over the hours (a warming machine, a neighbour's load) then
  // spreads over every point instead of favouring the first, and a budget stop leaves each point with a run.
  // The first repeat keeps the point's plain id, so adding `repeat` to a campaign keeps its finished runs.
  const runs: PlannedRun[] = [];
  for (let k = 1; k <= repeat; k++) {
    for (const parameters of kept) {
      runs.push({ id: k === 1 ? runId(parameters) : `${runId(parameters)}-r${k}`, index: runs.length, parameters: { ...parameters, [REPEAT_PARAMETER]: k } });
    }
  }
  return runs;
}
