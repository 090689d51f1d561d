/**
 * runner.heap: auto sizes a worker's heap for memory when it holds
 * thousands of agents and for speed otherwise, unless the scenario or --heap
 * asks (the figures behind it are in src/runner/heap-mode.ts). The choice
 * reaches every worker of every process, and the run says which it took and
 * why; a value that is not a mode is refused with the modes.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { resolveScenario } from '../src/scenario/load.js';
import { planWorkers } from '../src/runner/plan.js';
import {
  DENSE_WORKER_AGENTS,
  describeHeap,
  SIZE_HEAP_GROWING_PERCENT,
  SIZE_YOUNG_GENERATION_MB,
  SPEED_YOUNG_GENERATION_MB,
  workerResourceLimits,
} from '../src/runner/heap-mode.js';
import { busbench } from './helpers/cli.js';

const driver = { kind: 'rabbitmq' as const, url: 'rabbit://guest:guest@127.0.0.1:5672/', exchange: 'openstack' };
const scenario = (runner: Record<string, unknown>, clients = 3) =>
  resolveScenario(
    { name: 'h', bus: { kind: 'rabbitmq' }, agents: { servers: 1, clients }, load: { patterns: ['call/anycast'], messages: 20 }, runner },
    'test',
  );

describe('heap of the agent processes', () => {
  it('is auto by default: size when a worker holds DENSE_WORKER_AGENTS or more, else speed, the same for all workers of a process; an ask reaches every worker', () => {
    assert.equal(scenario({}).runner.heap, 'auto');
    assert.deepEqual(
      planWorkers(scenario({}), { workers: 2, driver }).map((i) => i.heap),
      ['speed', 'speed'],
    );
    // 1 server and 2 × DENSE_WORKER_AGENTS − 2 clients over 2 workers, round-robin: DENSE_WORKER_AGENTS in the first
    const dense = planWorkers(scenario({}, 2 * DENSE_WORKER_AGENTS - 2), { workers: 2, driver });
    assert.deepEqual(
      dense.map((i) => i.heap),
      ['size', 'size'],
    );
    const under = planWorkers(scenario({}, 2 * DENSE_WORKER_AGENTS - 4), { workers: 2, driver });
    assert.deepEqual(
      under.map((i) => i.heap),
      ['speed', 'speed'],
      'one agent fewer in the first, as many as ever in the second',
    );
    assert.deepEqual(
      planWorkers(scenario({ heap: 'size' }), { workers: 2, driver }).map((i) => i.heap),
      ['size', 'size'],
    );
    assert.deepEqual(
      planWorkers(scenario({ heap: 'speed' }, 2 * DENSE_WORKER_AGENTS), { workers: 1, driver }).map((i) => i.heap),
      ['speed'],
    );
    assert.match(describeHeap('auto', 'size', 15_001), /sized for memory: .*\(auto: 15,001 agents in a worker, 2,000 or more/);
    assert.match(describeHeap('auto', 'speed', 11), /sized for speed: .*\(auto: at most 11 agents in a worker, under 2,000; --heap size to choose\)/);
    assert.match(describeHeap('size', 'size', 11), /sized for memory: .*, as asked \(runner.heap: size\)/);
    assert.throws(() => scenario({ heap: 'tiny' }), /runner\.heap/);
  });

  it('gives a worker for speed a larger young generation than Node would, and one for size a smaller one', () => {
    const [speed] = planWorkers(scenario({ heap: 'speed' }), { workers: 1, driver });
    const [size] = planWorkers(scenario({ heap: 'size' }), { workers: 1, driver });
    assert.deepEqual(workerResourceLimits(speed!), { maxYoungGenerationSizeMb: SPEED_YOUNG_GENERATION_MB });
    assert.deepEqual(workerResourceLimits(size!), { maxYoungGenerationSizeMb: SIZE_YOUNG_GENERATION_MB });
    assert.ok(SPEED_YOUNG_GENERATION_MB > 48 && SIZE_YOUNG_GENERATION_MB < 48, "Node's own for a worker is 48 MiB");
  });

  it("sets V8's old-generation growth for size and puts V8's own back for speed, for the whole process", () => {
    // In a child: the flag is the process's, and this suite's other tests run in this one. V8's
    // verbose GC trace prints the factor each limit was set with.
    const script = `
      import { applyHeap } from ${JSON.stringify(new URL('../src/runner/heap-mode.js', import.meta.url).href)};
      const kept = [];
      const collect = (step) => { console.log('step ' + step); for (let i = 0; i < 200000; i++) kept.push({ i }); globalThis.gc(); };
      console.log(JSON.stringify([applyHeap([{ heap: 'speed' }, { heap: 'size' }])]));
      collect('size');
      console.log(JSON.stringify([applyHeap([{ heap: 'speed' }])]));
      collect('speed');
    `;
    const out = execFileSync(process.execPath, ['--expose-gc', '--trace-gc-verbose', '--input-type=module', '-e', script], { encoding: 'utf8' });
    const factors = (step: string): number[] =>
      [
        ...out
          .split(`step ${step}`)[1]!
          .split('step ')[0]!
          .matchAll(/\[HeapController\] Limit: .*\((\d+\.\d+)\)/g),
      ].map((m) => Number(m[1]));
    assert.match(out, /\["size"\][^]*\["speed"\]/);
    assert.deepEqual(factors('size'), [1 + SIZE_HEAP_GROWING_PERCENT / 100], out);
    assert.ok(factors('speed').length === 1 && factors('speed')[0]! > 1.1, `V8's own factor again: ${factors('speed').join()}`);
  });

  it('runs with --heap size, says so, and refuses a mode it does not know', { timeout: 120_000 }, async () => {
    const bad = await busbench(['run', '--heap', 'tiny', '--messages', '10']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--heap.*Allowed choices are auto, speed, size/);
    const ran = await busbench(['run', '--heap', 'size', '--clients', '2', '--servers', '1', '--messages', '40', '--json', '--no-results']);
    assert.equal(ran.code, 0, ran.stderr);
    const result = JSON.parse(ran.stdout) as { heapChosen: string; groups: { role: string; counters: { ok: number } }[] };
    assert.match(result.heapChosen, /sized for memory: .*as asked/);
    assert.equal(result.groups.find((g) => g.role === 'client')!.counters.ok, 40);
  });
});
