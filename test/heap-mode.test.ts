/**
 * runner.heap: V8's defaults unless the scenario or --heap asks for a heap
 * sized for memory (the figures behind it are bench/density-cli.ts's). The
 * choice reaches every worker of every process, and the run says which it
 * took; a value that is not a mode is refused with the modes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveScenario } from '../src/scenario/load.js';
import { planWorkers } from '../src/runner/plan.js';
import { describeHeap, SPEED_YOUNG_GENERATION_MB, workerResourceLimits } from '../src/runner/heap-mode.js';
import { busbench } from './helpers/cli.js';

const driver = { kind: 'rabbitmq' as const, url: 'rabbit://guest:guest@127.0.0.1:5672/', exchange: 'openstack' };
const scenario = (runner: Record<string, unknown>) =>
  resolveScenario(
    { name: 'h', bus: { kind: 'rabbitmq' }, agents: { servers: 1, clients: 3 }, load: { patterns: ['call/anycast'], messages: 20 }, runner },
    'test',
  );

describe('heap of the agent processes', () => {
  it("is V8's defaults unless asked, and the ask reaches every worker", () => {
    assert.equal(scenario({}).runner.heap, 'speed');
    const inits = planWorkers(scenario({ heap: 'size' }), { workers: 2, driver });
    assert.deepEqual(
      inits.map((i) => i.heap),
      ['size', 'size'],
    );
    assert.match(describeHeap('size', 15_001), /optimised for size \(runner.heap: size; 15,001 agents\)/);
    assert.throws(() => scenario({ heap: 'tiny' }), /runner\.heap/);
  });

  it('gives a worker for speed a larger young generation than Node would, and leaves size to V8', () => {
    const [speed] = planWorkers(scenario({}), { workers: 1, driver });
    const [size] = planWorkers(scenario({ heap: 'size' }), { workers: 1, driver });
    assert.deepEqual(workerResourceLimits(speed!), { maxYoungGenerationSizeMb: SPEED_YOUNG_GENERATION_MB });
    assert.ok(SPEED_YOUNG_GENERATION_MB > 48, "Node's own for a worker is 48 MiB");
    assert.equal(workerResourceLimits(size!), undefined);
    assert.match(describeHeap('speed', 10), new RegExp(`${SPEED_YOUNG_GENERATION_MB} MiB young generation`));
  });

  it('runs with --heap size, says so, and refuses a mode it does not know', { timeout: 120_000 }, async () => {
    const bad = await busbench(['run', '--heap', 'tiny', '--messages', '10']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--heap.*Allowed choices are speed, size/);
    const ran = await busbench(['run', '--heap', 'size', '--clients', '2', '--servers', '1', '--messages', '40', '--json', '--no-results']);
    assert.equal(ran.code, 0, ran.stderr);
    const result = JSON.parse(ran.stdout) as { heapChosen: string; groups: { role: string; counters: { ok: number } }[] };
    assert.match(result.heapChosen, /optimised for size/);
    assert.equal(result.groups.find((g) => g.role === 'client')!.counters.ok, 40);
  });
});
