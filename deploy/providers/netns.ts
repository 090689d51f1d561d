/**
 * The netns provider: every host of every site is a network namespace on
 * this machine, on one bridge, with busbench joined to it through a gateway
 * interface. Network stacks are real and separate, so constraints act on
 * real traffic between sites; processes are this machine's, so CPU and
 * memory are shared. Bus nodes and agent hosts run inside their hosts'
 * namespaces: a RabbitMQ cluster node per bus site, or (amqp1 with
 * bus.router) a router per bus site, the routers linked along the site links.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { availableParallelism, hostname, release, totalmem } from 'node:os';
import { routerStatistics, type RouterStatistics } from '../../src/buses/amqp1/router/management.js';
import { describeEdges, describeSiteMesh, startSiteRouters } from '../../src/buses/amqp1/router/sites.js';
import { startRabbitCluster } from '../../src/buses/rabbitmq/cluster.js';
import { applyNetworkPlan, detectKernel, namespaceExecutor, type AppliedPlan } from '../../src/network/apply.js';
import { runCommand } from '../../src/network/command.js';
import { measureLinks } from '../../src/network/measure.js';
import { createSiteNamespaces } from '../../src/network/netns-sites.js';
import { buildNetworkPlan } from '../../src/network/plan.js';
import { AGENT_HOST_ENTRY } from '../../src/runner/agent-hosts.js';
import { brokerPlugins, managementOf, MESH_MIN_WARMUP_MS } from '../../src/buses/deployed.js';
import type { Topology } from '../../src/scenario/topology.js';
import type { BusConfig, RouterDeployment } from '../../src/scenario/types.js';
import type { AppliedNetwork, ProvidedHost, Provider, SiteBus } from './provider.js';

export async function startNetnsProvider(topology: Topology, options: { tag?: string } = {}): Promise<Provider> {
  const tag = options.tag ?? randomBytes(3).toString('hex');
  const sites = await createSiteNamespaces(topology.sites.map((s) => ({ site: s.name, hosts: s.hosts })), tag, { gateway: true });
  const namespaceOf = new Map(sites.hosts.map((h) => [h.name, h.namespace]));
  const exec = namespaceExecutor((host) => namespaceOf.get(host)!);
  let applied: AppliedPlan | undefined;
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
    agentHostArgv: [process.execPath, AGENT_HOST_ENTRY],
    facts: machineFacts,
  }));
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
      const plan = buildNetworkPlan(sites.hosts, t.links, kernel);
      applied = await applyNetworkPlan(plan, exec);
      const firsts = t.sites.map((s) => {
        const host = firstHostOf(s.name);
        return { site: s.name, host: host.name, address: host.address };
      });
      const measured = t.links.length > 0 ? await measureLinks(firsts, t.links, plan, (host, argv) => runCommand(['ip', 'netns', 'exec', namespaceOf.get(host)!, ...argv])) : [];
      return { plan, mechanisms: plan.mechanisms, measured };
    },

    async deployBus(bus: BusConfig, busSites: string[], logsDir?: string): Promise<SiteBus> {
      const nodes = busSites.map((site) => {
        const host = firstHostOf(site);
        return { site, netns: host.namespace, address: host.address };
      });
      if (bus.kind === 'amqp1' && bus.router) return deploySiteRouters(bus.router, nodes, topology.links, logsDir);
      const amqp1 = bus.kind === 'amqp1';
      const cluster = await startRabbitCluster(nodes, { plugins: brokerPlugins(bus), ...(logsDir ? { keepLogsIn: logsDir } : {}) });
      const endpoints = Object.fromEntries(nodes.map((n, i) => [n.site, amqp1 ? cluster.nodes[i]!.amqp1Url : cluster.nodes[i]!.transportUrl]));
      return {
        urls: Object.values(endpoints),
        endpoints,
        embedded: true,
        description: nodes.length > 1 ? `a ${nodes.length}-node RabbitMQ ${cluster.version} cluster on sites ${busSites.join(', ')}` : `RabbitMQ ${cluster.version} on site ${busSites[0]}`,
        facts: { nodes: cluster.nodes.map((n, i) => ({ site: nodes[i]!.site, node: n.nodeName, url: amqp1 ? n.amqp1Url : n.transportUrl })) },
        processes: () => cluster.nodes.map((n, i) => ({ name: n.nodeName, kind: 'broker' as const, site: nodes[i]!.site, pid: n.beamPid() })),
        ...(bus.management ? { management: cluster.nodes.map(managementOf) } : {}),
        stop: () => cluster.stop(),
      };
    },

    async destroy(): Promise<void> {
      if (destroyed) return;
      destroyed = true;
      await applied?.remove();
      await sites.destroy();
    },
  };
}

/**
 * A router per bus site, in the namespace of the site's first host, linked
 * along the site links (see startSiteRouters); bus.router gives the flavor
 * and tuning, while its router count and shape give way to the sites.
 */
async function deploySiteRouters(router: RouterDeployment, nodes: { site: string; netns: string; address: string }[], links: Topology['links'], logsDir?: string): Promise<SiteBus> {
  const mesh = await startSiteRouters(nodes, links, {
    flavor: router.flavor,
    ...(router.workerThreads ? { workerThreads: router.workerThreads } : {}),
    ...(router.linkCapacity ? { linkCapacity: router.linkCapacity } : {}),
    ...(logsDir ? { keepLogsIn: logsDir } : {}),
  });
  const endpoints = Object.fromEntries(mesh.routers.map((r, i) => [mesh.sites[i]!, r.url]));
  const n = mesh.routers.length;
  const ignored = (['routers', 'shape', 'edges', 'treeFanout'] as const).filter((field) => router[field] !== undefined);
  return {
    urls: Object.values(endpoints),
    endpoints,
    embedded: true,
    description:
      `${n} ${mesh.flavor} router${n > 1 ? 's' : ''} (${mesh.version}), one per bus site (${mesh.sites.join(', ')}) in its first host's namespace, ${describeSiteMesh(mesh.sites, mesh.graph)}` +
      (ignored.length > 0 ? ` (bus.router ${ignored.join(', ')} ignored: the sites decide the routers)` : ' (bus.router.routers and shape do not apply: the sites decide the routers)'),
    facts: {
      router: {
        flavor: mesh.flavor,
        version: mesh.version,
        routers: mesh.routers.map((r, i) => ({ site: mesh.sites[i], id: r.plan.id, url: r.url })),
        mesh: mesh.graph.basis,
        links: describeEdges(mesh.sites, mesh.graph.edges),
        ...(mesh.graph.reason ? { fullMeshBecause: mesh.graph.reason } : {}),
      },
    },
    ...(n > 1 ? { minWarmupMs: MESH_MIN_WARMUP_MS } : {}),
    statistics: async (): Promise<{ routers: (RouterStatistics | { id: string; error: string })[] }> => ({
      routers: await Promise.all(mesh.routers.map((r) => routerStatistics(r.url, mesh.flavor).catch((error: Error) => ({ id: r.plan.id, error: error.message })))),
    }),
    processes: () => mesh.routers.map((r, i) => ({ name: r.plan.id, kind: 'router' as const, site: mesh.sites[i]!, pid: r.pid })),
    stop: () => mesh.stop(),
  };
}
