/** Reading run results in tests. */
import assert from 'node:assert/strict';
import type { GroupResult, RunResult } from '../../src/index.js';
import { runScenario } from '../../src/index.js';
import { resolveScenario } from '../../src/index.js';

/** Runs a scenario given in the file format (name and bus filled in) against the broker at `url`, writing no results. */
export function runOn(url: string, name: string, rest: Record<string, unknown>): Promise<RunResult> {
  return runScenario(resolveScenario({ name, bus: { kind: 'rabbitmq', url }, ...rest }, `test/${name}`), { resultsRoot: null });
}

/** The (role, pattern) group of a run; fails the test, listing the groups there are, when it is missing. */
export function group(result: RunResult, role: string, pattern: string): GroupResult {
  const found = result.groups.find((g) => g.role === role && g.pattern === pattern);
  assert.ok(found, `no ${role}/${pattern} group in ${result.groups.map((g) => `${g.role}/${g.pattern}`).join(', ')}`);
  return found;
}
