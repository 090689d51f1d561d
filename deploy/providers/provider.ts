/**
 * Where a topology's hosts come from. A provider makes the hosts, runs
 * commands and processes on them, puts the network constraints on them,
 * deploys the bus nodes of the bus sites, and removes all of it. The runner
 * asks only this interface, never which provider it has.
 */
import type { DeployedBus } from '../../src/buses/deployed.js';
import type { HostSpawner } from '../../src/runner/agent-hosts.js';
import type { MeasuredLink } from '../../src/network/measure.js';
import type { Mechanism, NetworkPlan } from '../../src/network/plan.js';
import type { HostExecutor } from '../../src/network/apply.js';
import type { ProcessReader } from '../../src/metrics/resources.js';
import type { ProviderKind, Topology } from '../../src/scenario/topology.js';
import type { BusConfig } from '../../src/scenario/types.js';

export interface ProvidedHost {
  name: string;
  site: string;
  /** where the other hosts, and busbench, reach it */
  address: string;
  /** starts a process on the host with piped stdio (agent hosts) */
  spawn: HostSpawner;
  /** the argv that starts a busbench agent host there (node and the entry, as installed on that host) */
  agentHostArgv: string[];
  /** what the machine is (node, cores, memory, bus software), for the results' provenance */
  facts?(): Promise<Record<string, unknown>>;
}

export interface AppliedNetwork {
  plan: NetworkPlan;
  mechanisms: { from: string; to: string; property: string; value: number; mechanism: Mechanism }[];
  measured: MeasuredLink[];
}

/** A bus across sites: one endpoint per bus site. */
export interface SiteBus extends DeployedBus {
  endpoints: Record<string, string>;
}

export interface Provider {
  kind: ProviderKind;
  /** what names this provider's resources on the machine (netns: busbench-<tag>-…) */
  tag?: string;
  hosts: ProvidedHost[];
  /** runs one command on a host to completion (network constraints, cuts) */
  run: HostExecutor;
  /** puts the topology's links on the hosts and measures them */
  constrain(topology: Topology): Promise<AppliedNetwork>;
  /** one bus node per bus site, on the site's first host */
  deployBus(bus: BusConfig, busSites: string[], logsDir?: string): Promise<SiteBus>;
  /** reads the host's processes by their pids there, when those are not this machine's; destroy() stops it */
  processReader?(host: string): ProcessReader | undefined;
  /** removes constraints, then the hosts; safe to call twice */
  destroy(): Promise<void>;
}
