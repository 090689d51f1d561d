/**
 * Placement: which agents run in which worker thread, with what share of
 * the messages. Pure data in, data out, so it is tested without a bus.
 */
import { resolveHeap } from './heap-mode.js';
import type { PatternName, Role, RpcPattern, Scenario, DriverConfig, ClientRoute, ClientSpec, WorkerInit } from '../model/index.js';

export function patternName(pattern: RpcPattern): PatternName {
  return `${pattern.method}-${pattern.target}` as PatternName;
}

/** `messages` spread over `senders`: the first (messages mod senders) send one more. */
export function shareOf(messages: number, senders: number, index: number): number {
  const base = Math.floor(messages / senders);
  return base + (index < messages % senders ? 1 : 0);
}

export interface PlacementOptions {
  workers: number;
  driver: DriverConfig;
  /**
   * Server names: the scenario's own servers take the first ones, unicast
   * clients address them all (servers elsewhere when the scenario has none).
   * Default: server-0 … server-(n-1).
   */
  serverNames?: string[];
}

export function serverName(index: number): string {
  return `server-${index}`;
}

export function planWorkers(scenario: Scenario, options: PlacementOptions): WorkerInit[] {
  const { agents, load } = scenario;
  const totalAgents = agents.servers + agents.clients + agents.notifiers + agents.listeners;
  const workerCount = Math.max(1, Math.min(options.workers, totalAgents));
  const inits: WorkerInit[] = Array.from({ length: workerCount }, (_, workerIndex) => ({
    workerIndex,
    driver: options.driver,
    sharedConnections: agents.sharedConnections,
    connectConcurrency: scenario.runner.connectConcurrency,
    topic: agents.topic,
    notificationTopic: agents.notificationTopic,
    notificationPriority: agents.notificationPriority,
    servers: [],
    listeners: [],
    clients: [],
    notifiers: [],
    faults: scenario.faults ?? {},
    bookkeeping: scenario.runner.bookkeeping,
    // resolved below, once the worker's agents are known
    heap: 'speed',
    load: {
      concurrency: load.concurrency,
      pauseMs: load.pauseMs,
      arrival: load.arrival,
      ...(load.ratePerClient !== undefined ? { rate: load.ratePerClient } : {}),
      timeoutMs: load.timeoutMs,
      payload: load.payload,
      method: load.method,
      ...(load.args ? { args: load.args } : {}),
    },
  }));
  // Round-robin over workers per role, so every worker gets a like mix of roles.
  const at = (index: number): WorkerInit => inits[index % workerCount]!;
  const servers = options.serverNames ?? Array.from({ length: agents.servers }, (_, i) => serverName(i));
  for (let i = 0; i < agents.servers; i++) at(i).servers.push(servers[i] ?? serverName(i));
  for (let i = 0; i < agents.listeners; i++) at(i).listeners.push(`listener-${i}`);
  const senders = agents.clients + agents.notifiers;
  const quota = (senderIndex: number): { quota?: number } => (load.messages !== undefined ? { quota: shareOf(load.messages, senders, senderIndex) } : {});
  const route = (pattern: RpcPattern, client: number): ClientRoute => {
    const name = patternName(pattern);
    return {
      pattern: name,
      weight: pattern.weight ?? 1,
      ...(name.endsWith('unicast') && servers.length > 0 ? { server: servers[client % servers.length]! } : {}),
    };
  };
  const assigned =
    load.mix === 'clients'
      ? assignByWeight(
          load.patterns.map((p) => p.weight ?? 1),
          agents.clients,
        )
      : [];
  for (let i = 0; i < agents.clients; i++) {
    const routes = load.mix === 'messages' ? load.patterns.map((p) => route(p, i)) : [route(load.patterns[assigned[i]!]!, i)];
    const spec: ClientSpec = { name: `client-${i}`, routes, ...quota(i) };
    at(i).clients.push(spec);
  }
  for (let i = 0; i < agents.notifiers; i++) at(i).notifiers.push({ name: `notifier-${i}`, ...quota(agents.clients + i) });
  resolveHeap(scenario.runner.heap, inits, agentsIn);
  return inits;
}

/** The agents a worker holds. */
export function agentsIn(init: WorkerInit): number {
  return init.servers.length + init.listeners.length + init.clients.length + init.notifiers.length;
}

/**
 * Which of the weighted items each of `count` slots gets: smooth weighted
 * round-robin (nginx's), so the shares are as close to the weights as whole
 * slots allow and the items interleave; equal weights give plain round-robin.
 */
export function assignByWeight(weights: readonly number[], count: number): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  const current = weights.map(() => 0);
  const out: number[] = [];
  for (let slot = 0; slot < count; slot++) {
    let best = 0;
    for (let i = 0; i < weights.length; i++) {
      current[i]! += weights[i]!;
      if (current[i]! > current[best]!) best = i;
    }
    current[best]! -= total;
    out.push(best);
  }
  return out;
}

export function requestedAgents(scenario: Scenario): Record<Role, number> {
  const a = scenario.agents;
  return { server: a.servers, client: a.clients, notifier: a.notifiers, listener: a.listeners };
}
