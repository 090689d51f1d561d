/**
 * Where a topology's hosts come from. A provider makes the hosts, runs
 * commands and processes on them, puts the network constraints on them,
 * and removes all of it; it knows nothing of buses (EnOSlib's split between
 * providers and services): bus plugins deploy on the hosts it hands over.
 */
import type { BusHost } from '../../src/buses/host.js';
import type { HostExecutor } from '../../src/network/apply.js';
import type { BusLink, RelayedBusLink } from '../../src/network/bus-link-relays.js';
import type { MeasuredLink, ProviderKind, Topology } from '../../src/model/index.js';
import type { Mechanism, NetworkPlan } from '../../src/network/plan.js';
import type { ProcessReader } from '../../src/metrics/resources.js';

export interface ProvidedHost extends BusHost {
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

export interface Provider {
  kind: ProviderKind;
  /** what names this provider's resources on the machine (netns: busbench-<tag>-…) */
  tag?: string;
  hosts: ProvidedHost[];
  /** runs one command on a host to completion (network constraints, cuts) */
  run: HostExecutor;
  /** puts the topology's links on the hosts and measures them */
  constrain(topology: Topology): Promise<AppliedNetwork>;
  /**
   * Where the kernel cannot add a link's delay: puts the bus's own connections between sites
   * (`links`, before the nodes dial them) through delay relays, and says which it relayed.
   * Absent, or an empty answer: those connections cross no configured delay.
   */
  relayBusLinks?(links: readonly BusLink[]): Promise<RelayedBusLink[]>;
  /** reads the host's processes by their pids there, when those are not this machine's; destroy() stops it */
  processReader?(host: string): ProcessReader | undefined;
  /** removes constraints, then the hosts; safe to call twice */
  destroy(): Promise<void>;
}

/** Runs a command on a host of `hosts` by its name, through the host's own run(): its stdout. */
export function runOnHosts(hosts: readonly ProvidedHost[]): (host: string, argv: string[]) => Promise<string> {
  const byName = new Map(hosts.map((h) => [h.name, h]));
  return (host, argv) => {
    const target = byName.get(host);
    if (!target) return Promise.reject(new Error(`no host ${host} here`));
    return target.run(argv);
  };
}
