/**
 * Placement: which agents run in which worker thread, with what share of
 * the messages. Pure data in, data out, so it is tested without a bus.
 */
import type { ClientSpec, WorkerInit } from '../../agents/control.js';
import type { DriverConfig } from '../drivers/index.js';
import type { PatternName, Role } from '../metrics/stats.js';
import type { RpcPattern, Scenario } from '../scenario/types.js';

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
    load: {
      concurrency: load.concurrency,
      pauseMs: load.pauseMs,
      arrival: load.arrival,
      ...(load.ratePerClient !== undefined ? { rate: load.ratePerClient } : {}),
      timeoutMs: load.timeoutMs,
      payloadBytes: load.payloadBytes,
    },
  }));
  // Round-robin over workers per role, so every worker gets a like mix of roles.
  const at = (index: number): WorkerInit => inits[index % workerCount]!;
  const servers = options.serverNames ?? Array.from({ length: agents.servers }, (_, i) => serverName(i));
  for (let i = 0; i < agents.servers; i++) at(i).servers.push(servers[i] ?? serverName(i));
  for (let i = 0; i < agents.listeners; i++) at(i).listeners.push(`listener-${i}`);
  const senders = agents.clients + agents.notifiers;
  const quota = (senderIndex: number): { quota?: number } =>
    load.messages !== undefined ? { quota: shareOf(load.messages, senders, senderIndex) } : {};
  for (let i = 0; i < agents.clients; i++) {
    const pattern = patternName(load.patterns[i % load.patterns.length]!);
    const spec: ClientSpec = { name: `client-${i}`, pattern, ...quota(i) };
    if (pattern.endsWith('unicast') && servers.length > 0) spec.server = servers[i % servers.length]!;
    at(i).clients.push(spec);
  }
  for (let i = 0; i < agents.notifiers; i++) at(i).notifiers.push({ name: `notifier-${i}`, ...quota(agents.clients + i) });
  return inits;
}

export function requestedAgents(scenario: Scenario): Record<Role, number> {
  const a = scenario.agents;
  return { server: a.servers, client: a.clients, notifier: a.notifiers, listener: a.listeners };
}
