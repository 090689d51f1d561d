/**
 * The netns provider: every host of every site is a network namespace on
 * this machine, on one bridge, with busbench joined to it through a gateway
 * interface. Network stacks are real and separate, so constraints act on
 * real traffic between sites; processes are this machine's, so CPU and
 * memory are shared. Bus nodes (deployed by the bus plugin) and agent hosts
 * run inside their hosts' namespaces.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { availableParallelism, hostname, release, totalmem } from 'node:os';
import { applyNetworkPlan, detectKernel, type AppliedPlan, type HostExecutor } from '../../src/network/apply.js';
import { relayBusLinks, type BusLink, type RelayedBusLink } from '../../src/network/bus-link-relays.js';
import { runCommand } from '../../src/network/command.js';
import { measureLinks } from '../../src/network/measure.js';
import { createSiteNamespaces } from '../../src/network/netns-sites.js';
import { buildNetworkPlan, type NetworkPlan } from '../../src/network/plan.js';
import { AGENT_HOST_ENTRY } from '../../src/runner/agent-hosts.js';
import type { Topology } from '../../src/model/index.js';
import { runOnHosts, type AppliedNetwork, type ProvidedHost, type Provider } from './provider.js';

export async function startNetnsProvider(topology: Topology, options: { tag?: string } = {}): Promise<Provider> {
  const tag = options.tag ?? randomBytes(3).toString('hex');
  const sites = await createSiteNamespaces(
    topology.sites.map((s) => ({ site: s.name, hosts: s.hosts })),
    tag,
    { gateway: true },
  );
  let applied: AppliedPlan | undefined;
  let plan: NetworkPlan | undefined;
  const busLinkRelays: { stop(): Promise<void> }[] = [];
  let destroyed = false;

  // Every namespace host is this machine: one set of facts serves them all.
  let machine: Record<string, unknown> | undefined;
  const machineFacts = async (): Promise<Record<string, unknown>> =>
    (machine ??= { hostname: hostname(), node: process.version, cores: availableParallelism(), memoryBytes: totalmem(), kernel: release() });
  const hosts: ProvidedHost[] = sites.hosts.map((h) => ({
    name: h.name,
    site: h.site,
    address: h.address,
    spawn: (argv) => spawn('ip', ['netns', 'exec', h.namespace, ...argv], { stdio: ['pipe', 'pipe', 'pipe'] }),
    run: (argv) => runCommand(['ip', 'netns', 'exec', h.namespace, ...argv]),
    thisMachine: { netns: h.namespace },
    agentHostArgv: [process.execPath, AGENT_HOST_ENTRY],
    facts: machineFacts,
  }));
  // Every command on a host goes through its own run(): in its namespace.
  const runOn = runOnHosts(hosts);
  const exec: HostExecutor = async (host, argv) => void (await runOn(host, argv));
  const firstHostOf = (site: string): (typeof sites.hosts)[number] => {
    const host = sites.hosts.find((h) => h.site === site);
    if (!host) throw new Error(`site ${site} has no host`);
    return host;
  };

  return {
    kind: 'netns',
    tag,
    hosts,
    run: exec,

    async constrain(t: Topology): Promise<AppliedNetwork> {
      const kernel = await detectKernel();
      plan = buildNetworkPlan(sites.hosts, t.links, kernel);
      applied = await applyNetworkPlan(plan, exec);
      const firsts = t.sites.map((s) => {
        const host = firstHostOf(s.name);
        return { site: s.name, host: host.name, address: host.address };
      });
      const measured = t.links.length > 0 ? await measureLinks(firsts, t.links, plan, runOn) : [];
      return { plan, mechanisms: plan.mechanisms, measured };
    },

    // The relays run in this process, on the gateway every namespace reaches; the redirects go with the namespaces.
    async relayBusLinks(links: readonly BusLink[]): Promise<RelayedBusLink[]> {
      if (!plan || plan.relayed.length === 0 || links.length === 0) return [];
      const relays = await relayBusLinks(links, { relayed: plan.relayed, gateway: sites.gatewayAddress!, run: runOn });
      busLinkRelays.push(relays);
      return relays.relayed;
    },

    async destroy(): Promise<void> {
      if (destroyed) return;
      destroyed = true;
      for (const relays of busLinkRelays) await relays.stop();
      await applied?.remove();
      await sites.destroy();
    },
  };
}
