/** Reading run results in tests. */
import assert from 'node:assert/strict';
import type { GroupResult, RunResult } from '../../src/results/model.js';

/** The (role, pattern) group of a run; fails the test, listing the groups there are, when it is missing. */
export function group(result: RunResult, role: string, pattern: string): GroupResult {
  const found = result.groups.find((g) => g.role === role && g.pattern === pattern);
  assert.ok(found, `no ${role}/${pattern} group in ${result.groups.map((g) => `${g.role}/${g.pattern}`).join(', ')}`);
  return found;
}
