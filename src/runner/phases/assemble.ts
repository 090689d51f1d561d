/**
 * Phase: assemble. The result of a run from what the phases measured:
 * per-message accounting, merged histograms and counters, the load model
 * in words, provenance, the outcome.
 */
import { arch, cpus, hostname, platform, release, totalmem } from 'node:os';
import { addIncidents } from '../../../agents/control.js';
import type { Deployment } from '../../../deploy/deploy.js';
import { accountDeliveries, attributeBacklog } from '../../metrics/accounting.js';
import {
  PATTERNS,
  RESULT_SCHEMA_VERSION,
  type DeliveryAccount,
  type GroupSnapshot,
  type PatternName,
  type Role,
  type WorkerClock,
  type PayloadSizes,
  type Scenario,
  type QueueBacklog,
  type IncidentTotals,
  type SentRange,
  type ServerReceipts,
  type RunResult,
  type Counters,
} from '../../model/index.js';
import { judgeGenerator } from '../../metrics/generator-verdict.js';
import { summarizeResources } from '../../metrics/resources.js';
import { addCounters, emptyCounters, groupKey } from '../../metrics/stats.js';
import { mergeByRole, mergeGroups } from '../../results/aggregate.js';
import { mergeSitePairs, unicastPaths } from '../../results/site-pairs.js';
import { judgeOutcome } from '../../results/outcome.js';
import { meanPayloadBytes } from '../../scenario/size.js';
import { redactUrl } from '../../util/url.js';
import { BUSBENCH_VERSION } from '../../version.js';
import type { Collected } from './collect.js';
import { runId, type RunContext } from './context.js';
import { addInterval, finishSeries, type LoadOutcome } from './load.js';
import type { Settled } from './settle.js';
import type { AgentsUp } from './start-agents.js';

export async function assemble(
  run: RunContext,
  deployment: Deployment,
  agents: AgentsUp,
  clocks: WorkerClock[],
  load: LoadOutcome,
  settled: Settled,
  collected: Collected,
): Promise<RunResult> {
  const { stats } = collected;
  const { startedByRole, inits, failures, failed, started, startupMs, agentHosts } = agents;
  const { measuredMs, measureStartedAt, warmupMs, drainMs, losses, stopReason, cpuMeasured, resources, disruptions, series } = load;
  const { settleMs, backlogKnown, backlog } = settled;
  const { scenario, startedAt, directory, requested } = run;
  const bus = deployment.bus;
  const topology = scenario.topology;
  const provider = deployment.provider;
  const network = deployment.network;
  const allGroups: GroupSnapshot[] = stats.flatMap((s) => s.groups);
  // What arrived after the last tick followed (the settle's end) closes the series, so it adds up to the counters.
  const lastSecond = Math.max(1, Math.round((Date.now() - measureStartedAt) / 1000));
  const finalTotals: Record<string, Counters> = {};
  for (const g of allGroups) addCounters((finalTotals[groupKey(g.role, g.pattern)] ??= emptyCounters()), g.counters);
  stats.forEach((s, worker) => {
    if (!s.interval || Object.keys(s.interval.groups).length === 0) return;
    addInterval(series, lastSecond, s.interval);
    // Those who watch live (the progress line, InfluxDB) get the last part as they got the others.
    run.emit({
      type: 'tick',
      elapsedMs: Date.now() - measureStartedAt + warmupMs,
      measuring: false,
      totals: finalTotals,
      worker,
      second: lastSecond,
      interval: s.interval,
    });
  });
  // Per-message accounting needs the receivers' receipts: only for patterns whose receivers run here.
  const receiversHere = (s: SentRange): boolean => (s.pattern === 'notify' ? startedByRole.listener : startedByRole.server) > 0;
  // Without senders here (standalone servers and listeners) there is nothing to lay the receipts over.
  const sendersHere = startedByRole.client + startedByRole.notifier > 0;
  const delivery = sendersHere
    ? accountByPattern(
        stats.flatMap((s) => s.sent).filter(receiversHere),
        stats.flatMap((s) => s.receipts),
        startedByRole.server,
        backlogKnown ? backlog : undefined,
      )
    : {};
  const generator = judgeGenerator(
    stats.map((s) => s.generator),
    scenario,
  );
  if (generator.saturated) run.say('warn', `generator saturated: ${generator.reasons.join('; ')} — these figures are the generator's limits, not the bus's`);
  run.emit({ type: 'generator', saturated: generator.saturated, reasons: generator.reasons });
  const oneWayUncertaintyUs = Math.round(2 * Math.max(0, ...clocks.map((c) => c.uncertaintyMs)) * 1000);
  const receivedByAgent: Record<string, number> = {};
  for (const s of stats) for (const [name, n] of Object.entries(s.receivedByAgent)) receivedByAgent[name] = (receivedByAgent[name] ?? 0) + n;
  const endedAt = new Date();
  const result: RunResult = {
    schemaVersion: RESULT_SCHEMA_VERSION,
    id: runId(scenario, directory, startedAt),
    // As run: the worker count chosen, not "auto".
    scenario: { ...scenario, runner: { ...scenario.runner, workers: inits.length } },
    provenance: {
      busbench: BUSBENCH_VERSION,
      node: process.version,
      argv: process.argv.slice(2),
      host: {
        hostname: hostname(),
        platform: platform(),
        release: release(),
        arch: arch(),
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model ?? 'unknown',
        memoryBytes: totalmem(),
      },
      bus: { kind: scenario.bus.kind, ...agents.busInfo, url: redactUrl(agents.url), embedded: bus.embedded, ...bus.facts },
      startedAt: startedAt.toISOString(),
      endedAt: endedAt.toISOString(),
    },
    workers: inits.length,
    workersChosen: agents.workersChosen,
    heapChosen: agents.heapChosen,
    agents: {
      requested,
      started: startedByRole,
      failed,
      failures: failures.slice(0, 100),
      startupMs: Math.round(startupMs),
      startedPerSec: startupMs > 0 ? Math.round((started / startupMs) * 1000) : 0,
    },
    phases: {
      warmupMs,
      measureStartedAt: new Date(measureStartedAt).toISOString(),
      measuredMs: Math.round(measuredMs),
      drainMs: Math.round(drainMs),
      settleMs: Math.round(settleMs),
    },
    groups: mergeGroups(allGroups, measuredMs),
    overall: mergeByRole(allGroups, measuredMs, startedByRole),
    perWorker: stats.map((s, worker) => ({ worker, groups: mergeGroups(s.groups, measuredMs) })),
    receivedByAgent,
    lateReplies: stats.reduce((sum, s) => sum + s.lateReplies, 0),
    unmatchedReplies: stats.reduce((sum, s) => sum + s.unmatchedReplies, 0),
    busIncidents: stats.reduce((sum, s) => (addIncidents(sum, s.incidents), sum), { malformedMessages: 0, returnedMessages: 0, errors: {} } as IncidentTotals),
    loadModel: describeLoadModel(scenario, startedByRole),
    delivery,
    ...(backlogKnown ? { backlogAtStop: backlog } : {}),
    connectionLosses: losses.slice(0, 1000),
    firstErrors: Object.assign({}, ...[...stats].reverse().map((s) => s.firstErrors)),
    connectionsLost: losses.length,
    ...(stopReason ? { stoppedEarly: { reason: stopReason, partial: true } } : {}),
    clocks: {
      workers: clocks,
      oneWayUncertaintyUs,
      note: `one-way latencies are corrected by each process's estimated clock offset; between two processes they are good to ±${oneWayUncertaintyUs} µs (the sum of both offsets' uncertainties, at worst)`,
    },
    generator,
    timeSeries: finishSeries(series, resources),
    harness: {
      cpuUserUs: cpuMeasured.user,
      cpuSystemUs: cpuMeasured.system,
      cpuCores: measuredMs > 0 ? (cpuMeasured.user + cpuMeasured.system) / 1000 / measuredMs : 0,
      maxRssBytes: process.resourceUsage().maxRSS * 1024,
    },
  };
  result.outcome = judgeOutcome(result);
  for (const problem of result.outcome.problems) run.say('error', problem);
  if (collected.busStatistics !== undefined) result.busStatistics = collected.busStatistics;
  if (resources) result.resources = { ...resources, rows: summarizeResources(resources) };
  if (topology) {
    result.topology = {
      provider: topology.provider,
      sites: topology.sites,
      busSites: topology.busSites,
      agentsBySite: topology.agentsBySite,
      hosts: await Promise.all(
        (deployment.sited ? provider.hosts : []).map(async (h) => {
          // Provenance only: a host that cannot say what it is does not cost the run its results.
          const facts = await h.facts?.().catch((error: unknown) => ({ error: error instanceof Error ? error.message : String(error) }));
          return { name: h.name, site: h.site, address: h.address, ...(facts ? { facts } : {}) };
        }),
      ),
      ...(network
        ? {
            network: {
              mechanisms: network.mechanisms,
              measured: network.measured,
              relays: agentHosts.flatMap((h) => h.relays.map((r) => ({ host: h.host, url: redactUrl(r.url), via: r.via }))),
              busLinks: deployment.busLinks.map(({ stats, ...link }) => ({ ...link, ...stats })),
            },
          }
        : {}),
      disruptions,
      ...(agents.topologyWarnings.length > 0 ? { warnings: agents.topologyWarnings } : {}),
    };
    const pairs = stats.flatMap((s) => s.pairs);
    if (pairs.length > 0) {
      const siteOf = new Map(result.topology.hosts.map((h) => [h.name, h.site]));
      result.sitePairs = mergeSitePairs(pairs, siteOf, measuredMs, topology.links);
      const queues = runQueues(collected.busStatistics, scenario.agents.topic, scenario.agents.notificationTopic);
      if (queues) result.sitePairs.queues = queues;
      // A server's unicast queue is <topic>.<server>: the host's servers name it, when they share a site.
      const queueSiteOfHost = (host: string): string | undefined => {
        const names = inits.filter((i) => i.host === host).flatMap((i) => i.servers.map((server) => `${scenario.agents.topic}.${server}`));
        const sites = new Set(names.map((name) => queues?.find((q) => q.queue === name)?.site));
        const [only] = sites;
        return sites.size === 1 && typeof only === 'string' ? only : undefined;
      };
      const paths = unicastPaths(result.sitePairs.byHost, siteOf, {
        ...(deployment.bus.siteEdges ? { siteEdges: deployment.bus.siteEdges } : {}),
        ...(queues ? { queueSiteOfHost } : {}),
      });
      if (paths.length > 0) result.sitePairs.paths = paths;
    }
  }
  return result;
}

/** This run's server and notification queues (anycast, unicast, fanout, notification) from the bus's queue placement, when it has one. */
function runQueues(statistics: unknown, topic: string, notificationTopic: string): NonNullable<RunResult['sitePairs']>['queues'] {
  const placement = (statistics as { queues?: unknown } | undefined)?.queues;
  if (!Array.isArray(placement)) return undefined;
  const ours = (name: string): boolean =>
    name === topic || name.startsWith(`${topic}.`) || name.startsWith(`${topic}_fanout_`) || name.startsWith(`${notificationTopic}.`);
  return (placement as { name: string; type: string; node: string; site?: string }[])
    .filter((q) => ours(q.name))
    .map((q) => ({ queue: q.name, type: q.type, node: q.node, site: q.site ?? null }))
    .sort((a, b) => a.queue.localeCompare(b.queue));
}

function describeLoadModel(scenario: Scenario, started: Record<Role, number>): RunResult['loadModel'] {
  const { arrival, ratePerClient, concurrency } = scenario.load;
  // Say what ran: RPC clients, notifiers, or only consumers of senders elsewhere.
  const senders = [
    started.client > 0
      ? `${started.client} RPC client(s), ${describeMix(scenario.load)}${scenario.load.method !== 'bench' ? `, method ${scenario.load.method}` : ''}`
      : '',
    started.notifier > 0 ? `${started.notifier} notifier(s) on ${scenario.agents.notificationTopic}.${scenario.agents.notificationPriority}` : '',
  ].filter(Boolean);
  if (senders.length === 0) {
    return {
      arrival,
      description:
        "no senders in this run: servers and listeners measure what senders elsewhere send (one-way latency needs their clocks in step with this host's)",
    };
  }
  const offered = `; ${senders.join('; ')}; ${describePayload(scenario.load.payload)}`;
  const hasCasts = started.notifier > 0 || (started.client > 0 && scenario.load.patterns.some((p) => p.method === 'cast'));
  if (arrival === 'closed') {
    return {
      arrival,
      description:
        `closed loop (ombt-style): each sender keeps ${concurrency} message(s) outstanding, so the send rate adapts to the bus and a stall lowers throughput instead of raising latency; latency is the service time` +
        (hasCasts
          ? ". A cast or notification is done once the client has handed it to the connection, so closed-loop casts measure how fast the clients push into the bus's buffers, not how fast the receivers take them: compare the receivers' rate, or pace them with --rate"
          : '') +
        offered,
    };
  }
  return {
    arrival,
    description: `open loop, ${arrival === 'poisson' ? 'Poisson arrivals' : 'evenly spaced'} at ${ratePerClient}/s per sender, at most ${concurrency} outstanding: \`latency\` is the service time (from the actual send), \`legs.corrected\` counts from each intended send time and shows stalls${offered}`,
  };
}

function describeMix(load: Scenario['load']): string {
  const weighted = load.patterns.map((p) => `${p.method}/${p.target}${p.weight !== undefined ? ` ×${p.weight}` : ''}`).join(', ');
  if (load.patterns.length === 1) return `pattern ${weighted}`;
  return load.mix === 'messages' ? `every client draws each message's pattern from ${weighted}` : `clients split over ${weighted}`;
}

function describePayload(payload: PayloadSizes): string {
  if (payload.kind === 'fixed') return `payload ${payload.bytes} B`;
  if (payload.kind === 'uniform') return `payload uniform ${payload.min}–${payload.max} B`;
  return `payload ${payload.choices.map((c) => `${c.bytes} B ×${c.weight}`).join(', ')} (mean ${Math.round(meanPayloadBytes(payload))} B)`;
}

/** Which of a server's subscriptions (or a listener pool) each pattern's messages wait in. */
const QUEUE_OF: Record<PatternName, QueueBacklog['via']> = {
  'cast-unicast': 'unicast',
  'call-unicast': 'unicast',
  'cast-anycast': 'anycast',
  'call-anycast': 'anycast',
  'cast-multicast': 'multicast',
  notify: 'notify',
};

/**
 * Every measured message per pattern, by (sender, sequence): delivered,
 * lost, duplicated, reordered. With the bus's backlog at stop, missing
 * deliveries it still held are undelivered at stop, not lost; a queue two
 * patterns share (call and cast anycast) is spent once, casts first (a
 * call still queued has timed out at its client already).
 */
function accountByPattern(
  sent: SentRange[],
  receipts: ServerReceipts[],
  servers: number,
  backlog: QueueBacklog[] | undefined,
): Partial<Record<PatternName, DeliveryAccount>> {
  const out: Partial<Record<PatternName, DeliveryAccount>> = {};
  const patterns = new Set<PatternName>([...sent.map((s) => s.pattern), ...receipts.map((r) => r.pattern)]);
  for (const pattern of PATTERNS) {
    if (!patterns.has(pattern)) continue;
    const expectedReceivers = pattern === 'cast-multicast' ? servers : 1;
    out[pattern] = accountDeliveries(
      sent.filter((s) => s.pattern === pattern).map((s) => ({ sender: s.client, firstSeq: s.firstSeq, count: s.count, expectedReceivers })),
      receipts.filter((r) => r.pattern === pattern).map((r) => r.receipts),
    );
  }
  if (backlog) {
    const held = new Map<QueueBacklog['via'], number>();
    for (const q of backlog) held.set(q.via, (held.get(q.via) ?? 0) + q.messages);
    const castsFirst = (Object.keys(out) as PatternName[]).sort((a, b) => Number(a.startsWith('call')) - Number(b.startsWith('call')));
    for (const pattern of castsFirst) {
      const account = out[pattern]!;
      account.backlogReported = true;
      const via = QUEUE_OF[pattern];
      held.set(via, (held.get(via) ?? 0) - attributeBacklog(account, held.get(via) ?? 0));
    }
  }
  return out;
}
