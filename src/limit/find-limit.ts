/**
 * Find the limit: the highest offered rate at which the bus holds a latency
 * objective. The scenario is deployed once (hosts, links, bus); each step runs the scenario open
 * loop at one total rate (spread evenly over the senders) on a topic of its
 * own, so a backlog left by a failing step does not burden the next, and is
 * judged against the objective. The search (search.ts) picks the next rate.
 * A step whose load generator saturated ends the search: past that point
 * the figures would be busbench's, not the bus's.
 */
import { join } from 'node:path';
import { createRunDirectory, writeJsonAtomic } from '../results/write.js';
import { deploy, type Deployment } from '../../deploy/deploy.js';
import { runScenario, type RunEvent } from '../runner/run.js';
import { redactUrl } from '../util/url.js';
import { LIMIT_SCHEMA_VERSION, type Scenario, type RunResult, type Objective, type SearchSettings, type LimitResult, type LimitStep } from '../model/index.js';
import { BUSBENCH_VERSION } from '../version.js';
import { judge } from './objective.js';
import { RateSearch } from './search.js';

export interface LimitOptions {
  objective: Objective;
  search: SearchSettings;
  /** measured time of each step */
  stepDurationMs: number;
  /** warm-up of each step (at the step's rate) */
  warmupMs: number;
  /** where the search's directory goes; null: write nothing */
  resultsRoot: string | null;
  onEvent?: (event: LimitEvent) => void;
}

export type LimitEvent =
  | { type: 'bus-ready'; description: string; urls: string[] }
  | { type: 'step-start'; step: number; ratePerSec: number; ratePerSender: number }
  | { type: 'step-done'; step: LimitStep }
  | { type: 'run'; event: RunEvent };

function senders(scenario: Scenario): number {
  return scenario.agents.clients + scenario.agents.notifiers;
}

/** The scenario of one step: open loop at `ratePerSender`, for a set time, on a topic of its own. */
export function stepScenario(scenario: Scenario, step: number, ratePerSender: number, options: Pick<LimitOptions, 'stepDurationMs' | 'warmupMs'>): Scenario {
  const tag = `step${String(step).padStart(2, '0')}`;
  const stepped = structuredClone(scenario);
  stepped.name = `${scenario.name}-${tag}`;
  stepped.agents.topic = `${scenario.agents.topic}-${tag}`;
  stepped.agents.notificationTopic = `${scenario.agents.notificationTopic}-${tag}`;
  const load = stepped.load;
  load.arrival = load.arrival === 'closed' ? 'fixed' : load.arrival;
  load.ratePerClient = ratePerSender;
  delete load.messages;
  load.durationMs = options.stepDurationMs;
  load.warmupMs = options.warmupMs;
  // Enough room for two seconds of sends outstanding: past that the sends fall behind schedule, and the latency from the intended time says so.
  load.concurrency = Math.max(load.concurrency, Math.min(1000, Math.ceil(ratePerSender * 2)));
  return stepped;
}

function perSecond(count: number, ms: number): number {
  return ms > 0 ? Math.round((count / ms) * 1000 * 10) / 10 : 0;
}

function conclusion(end: LimitResult['end'], objective: string, holding: number | undefined, failing: number | undefined, lastRate: number): string {
  switch (end) {
    case 'bracketed':
      return `the bus holds ${objective} up to ${holding} msg/s; it failed at ${failing} msg/s`;
    case 'held-at-max-rate':
      return `the bus held ${objective} at the highest rate allowed, ${holding} msg/s: its limit is above that (raise --max-rate)`;
    case 'failed-at-min-rate':
      return `the bus failed ${objective} even at ${failing} msg/s, the lowest rate allowed (lower --min-rate, or loosen the objective)`;
    case 'out-of-steps':
      return holding !== undefined
        ? `out of steps: the bus holds ${objective} at ${holding} msg/s${failing !== undefined ? ` and failed at ${failing} msg/s` : ''}; allow more steps to narrow it`
        : `out of steps before any rate held ${objective}`;
    case 'in-progress':
      return `searching: ${holding !== undefined ? `held ${objective} up to ${holding} msg/s` : 'no rate has held yet'}${failing !== undefined ? `, failed at ${failing} msg/s` : ''}`;
    case 'generator-saturated':
      return `the load generator saturated at ${lastRate} msg/s, so the search stopped there${holding !== undefined ? ` (the bus held ${objective} up to ${holding} msg/s)` : ''}: the bus's limit may be higher than this host can offer; use more worker threads or hosts`;
  }
}

export async function findLimit(scenario: Scenario, options: LimitOptions): Promise<LimitResult> {
  const emit = options.onEvent ?? (() => undefined);
  const startedAt = new Date();
  const senderCount = senders(scenario);
  if (senderCount === 0) throw new Error(`${scenario.source}: nothing sends: the limit search needs clients or notifiers`);
  const directory = options.resultsRoot === null ? undefined : await createRunDirectory(options.resultsRoot, `${scenario.name}-limit`, startedAt);
  const search = new RateSearch(options.search);
  const steps: LimitStep[] = [];
  let deployment: Deployment | undefined;
  const result = (end: LimitResult['end']): LimitResult => ({
    schemaVersion: LIMIT_SCHEMA_VERSION,
    kind: 'limit',
    busbench: BUSBENCH_VERSION,
    scenario: scenario.name,
    source: scenario.source,
    objective: options.objective.text,
    ...(search.holding !== undefined ? { limitPerSec: search.holding } : {}),
    ...(search.failing !== undefined ? { failingPerSec: search.failing } : {}),
    end,
    conclusion: conclusion(end, options.objective.text, search.holding, search.failing, search.current),
    settings: { search: options.search, stepDurationMs: options.stepDurationMs, warmupMs: options.warmupMs },
    bus: { description: deployment?.bus.description ?? '', urls: (deployment?.bus.urls ?? []).map(redactUrl) },
    startedAt: startedAt.toISOString(),
    endedAt: new Date().toISOString(),
    steps,
    ...(directory ? { directory: directory.path } : {}),
  });
  try {
    // Deployed once for every step: the same hosts, links and bus, as a run would have them.
    deployment = await deploy(scenario, {
      ...(directory ? { logsDir: join(directory.path, 'logs') } : {}),
      onLog: (level, message) => emit({ type: 'run', event: { type: 'log', level, message } }),
    });
    emit({ type: 'bus-ready', description: deployment.bus.description, urls: deployment.bus.urls.map(redactUrl) });
    let end: Exclude<LimitResult['end'], 'in-progress'> | undefined;
    while (end === undefined) {
      const index = steps.length + 1;
      const ratePerSec = search.current;
      const ratePerSender = ratePerSec / senderCount;
      emit({ type: 'step-start', step: index, ratePerSec, ratePerSender });
      const run: RunResult = await runScenario(stepScenario(scenario, index, ratePerSender, options), {
        resultsRoot: directory ? directory.path : null,
        deployment,
        onEvent: (event) => emit({ type: 'run', event }),
      });
      const verdict = judge(run, options.objective);
      const senderGroups = run.groups.filter((g) => g.role === 'client' || g.role === 'notifier');
      const step: LimitStep = {
        step: index,
        ratePerSec,
        ratePerSender,
        // Over the step's send schedule, not the measured phase, which also holds the wait for late replies.
        sentPerSec: perSecond(
          senderGroups.reduce((n, g) => n + g.counters.sent, 0),
          options.stepDurationMs,
        ),
        completedPerSec: Math.round(senderGroups.reduce((n, g) => n + g.throughputPerSec, 0) * 10) / 10,
        held: verdict.passed && !run.generator.saturated,
        verdict,
        generatorSaturated: run.generator.saturated,
        generatorReasons: run.generator.reasons,
        ...(run.directory ? { directory: run.directory } : {}),
      };
      steps.push(step);
      emit({ type: 'step-done', step });
      if (run.generator.saturated) {
        end = 'generator-saturated';
        break;
      }
      const next = search.record(verdict.passed);
      if ('end' in next) end = next.end;
      // Every finished step is on disk: a crash or Ctrl-C later loses none of them.
      if (directory) await writeJsonAtomic(join(directory.path, 'limit.json'), result('in-progress'));
    }
    const final = result(end);
    if (directory) await writeJsonAtomic(join(directory.path, 'limit.json'), final);
    return final;
  } finally {
    await deployment?.destroy().catch(() => undefined);
  }
}
