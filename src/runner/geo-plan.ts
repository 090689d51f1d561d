/**
 * Placement across sites and hosts: which host runs which agents, in how
 * many worker threads, against which site's bus node, and through which
 * delay relays. Pure: the agents are planned once for the whole run (names,
 * routes and quotas stay global, so accounting works across hosts), then
 * handed out by site as the topology says and round-robin over each site's
 * hosts.
 */
import type { Role, Topology, Scenario, DriverConfig, ClientSpec, WorkerInit, RelaySpec } from '../model/index.js';
import type { NetworkPlan } from '../network/plan.js';
import { busSiteFor } from '../scenario/topology.js';
import { agentsIn, planWorkers } from './plan.js';
import { resolveHeap } from './heap-mode.js';

export interface PlacedHost {
  name: string;
  site: string;
}

export interface HostAssignment {
  host: string;
  site: string;
  /** the bus site its agents use, and the endpoint they connect to */
  busSite: string;
  inits: WorkerInit[];
  relays: RelaySpec[];
}

type Agent =
  | { role: 'server'; spec: string }
  | { role: 'listener'; spec: string }
  | { role: 'client'; spec: ClientSpec }
  | { role: 'notifier'; spec: { name: string; quota?: number } };

/**
 * `endpoints`: each bus site's transport URL. `workersPerHost`: worker
 * threads on each host that runs agents. `network`: the applied plan, whose
 * relayed directions become delay relays on the hosts that cross them.
 */
export function planHosts(
  scenario: Scenario,
  topology: Topology,
  hosts: PlacedHost[],
  endpoints: Record<string, string>,
  driver: DriverConfig,
  workersPerHost: number,
  network?: Pick<NetworkPlan, 'relayed'>,
): HostAssignment[] {
  // Every agent of the run, named and given its routes and quota as one place would.
  const whole = planWorkers(scenario, { workers: 1, driver })[0]!;
  const byRole: Record<Role, Agent[]> = {
    server: whole.servers.map((spec) => ({ role: 'server', spec })),
    listener: whole.listeners.map((spec) => ({ role: 'listener', spec })),
    client: whole.clients.map((spec) => ({ role: 'client', spec })),
    notifier: whole.notifiers.map((spec) => ({ role: 'notifier', spec })),
  };
  const agentsOfHost = new Map<string, Agent[]>(hosts.map((h) => [h.name, []]));
  for (const role of ['server', 'listener', 'client', 'notifier'] as const) {
    let next = 0;
    for (const site of topology.sites) {
      const siteHosts = hosts.filter((h) => h.site === site.name);
      const count = topology.agentsBySite[role][site.name] ?? 0;
      for (let i = 0; i < count; i++) agentsOfHost.get(siteHosts[i % siteHosts.length]!.name)!.push(byRole[role][next++]!);
    }
  }
  const assignments: HostAssignment[] = [];
  let workerIndex = 0;
  for (const host of hosts) {
    const agents = agentsOfHost.get(host.name)!;
    if (agents.length === 0) continue;
    const busSite = busSiteFor(topology, host.site);
    const url = endpoints[busSite];
    if (url === undefined) throw new Error(`no bus endpoint for site ${busSite}`);
    const workers = Math.max(1, Math.min(workersPerHost, agents.length));
    const inits: WorkerInit[] = Array.from({ length: workers }, () => ({
      ...whole,
      workerIndex: workerIndex++,
      host: host.name,
      driver: { ...driver, url: [url] },
      servers: [],
      listeners: [],
      clients: [],
      notifiers: [],
    }));
    agents.forEach((agent, i) => {
      const init = inits[i % workers]!;
      if (agent.role === 'server') init.servers.push(agent.spec);
      else if (agent.role === 'listener') init.listeners.push(agent.spec);
      else if (agent.role === 'client') init.clients.push(agent.spec);
      else init.notifiers.push(agent.spec);
    });
    resolveHeap(scenario.runner.heap, inits, agentsIn);
    const forward = network?.relayed.find((r) => r.from === host.site && r.to === busSite);
    const backward = network?.relayed.find((r) => r.from === busSite && r.to === host.site);
    const relays: RelaySpec[] =
      forward || backward
        ? [
            {
              url,
              forwardDelayMs: forward?.delayMs ?? 0,
              backwardDelayMs: backward?.delayMs ?? 0,
              jitterMs: Math.max(forward?.jitterMs ?? 0, backward?.jitterMs ?? 0),
            },
          ]
        : [];
    assignments.push({ host: host.name, site: host.site, busSite, inits, relays });
  }
  return assignments;
}
