/**
 * An amqp1 bus on the hosts of a placement: with bus.router, a mesh of
 * routers (on the local provider `routers` of them on this host, shaped by
 * bus.router; with a topology one per bus site, linked along the site
 * links: in the namespace of the site's host on this machine, under a bus
 * node host on a host reached over ssh); without, RabbitMQ with its AMQP
 * 1.0 plugin.
 */
import { breadthFirst } from '../../util/graph.js';
import { OSLO_DISTRIBUTION, type BusConfig, type RouterDeployment } from '../../model/index.js';
import type { BusNode, BusPlacement, DeployedBus } from '../plugin.js';
import { deployRabbit } from '../rabbitmq/deploy.js';
import type { RouterFlavor, RouterTuning } from './router/config.js';
import { routerStatistics, type RouterStatistics } from './router/management.js';
import { startLocalMesh, type LocalMesh } from './router/local.js';
import { remoteLifecycle } from '../remote-node.js';
import { startRemoteSiteRouters, type RemoteSiteMesh } from './router/remote.js';
import { describeEdges, describeSiteMesh, startSiteRouters, type SiteMeshGraph } from './router/sites.js';

/** Measured 0.9–1.0 s for a 3-router chain to propagate a subscriber (qdrouterd 1.19); twice that, to be safe. */
export const MESH_MIN_WARMUP_MS = 2000;

/**
 * The warm-up a mesh of routers on sites needs: a subscriber is passed on one router hop per
 * mobile-address tick (1 s), and with WAN delay on the links an update can miss a tick it made
 * without (seen: a chain of three with 5 ms links lost the first casts to the far end after 2 s).
 * So a second per hop of the longest shortest path, and one more, at least MESH_MIN_WARMUP_MS.
 */
export function siteMeshWarmupMs(routers: number, edges: readonly (readonly [number, number])[]): number {
  let diameter = 0;
  for (let from = 0; from < routers; from++) for (const { hops } of breadthFirst(from, edges).values()) diameter = Math.max(diameter, hops);
  return Math.max(MESH_MIN_WARMUP_MS, (diameter + 1) * 1000);
}

export async function deployAmqp1(bus: BusConfig, placement: BusPlacement): Promise<DeployedBus> {
  if (!bus.router) return deployRabbit(bus, placement, 'amqp-1.0');
  const here = placement.sites.filter((s) => s.host.thisMachine);
  if (here.length === 0) return deploySiteRouters(bus.router, placement, await startRemoteSiteRouters(placement.sites, placement.links, tuningOf(bus.router)));
  if (here.length < placement.sites.length) {
    throw new Error(
      `the bus sites ${here.map((s) => s.site).join(', ')} are on this machine and the others are not: a router mesh is deployed one way, on hosts of one provider`,
    );
  }
  return placement.topology
    ? deploySiteRouters(bus.router, placement, await startNamespaceRouters(bus.router, placement))
    : deployLocalMesh(bus.router, placement);
}

function tuningOf(r: RouterDeployment): { flavor: RouterDeployment['flavor'] } & RouterTuning {
  return {
    flavor: r.flavor,
    ...(r.workerThreads ? { workerThreads: r.workerThreads } : {}),
    ...(r.linkCapacity ? { linkCapacity: r.linkCapacity } : {}),
    ...(r.distribution ? { distribution: r.distribution } : {}),
  };
}

/** The distribution each oslo address kind had, for the results: as asked, or oslo's own. */
function distributionOf(r: RouterDeployment): { unicast: string; anycast: string; multicast: 'multicast' } {
  return { ...(r.distribution ?? OSLO_DISTRIBUTION), multicast: 'multicast' };
}

/** A router of a deployed mesh, wherever it runs: a bus node by its router id. */
type MeshRouter = { id: string } & Omit<BusNode, 'name' | 'kind'>;

/** The routers of a mesh of this machine, on `hosts` (router i on hosts[i]), serving `sites` when a topology has them. */
function localRouters(mesh: LocalMesh, hosts: string[], sites?: string[]): MeshRouter[] {
  return mesh.routers.map((router, i) => ({
    id: router.plan.id,
    url: router.url,
    host: hosts[i]!,
    ...(sites ? { site: sites[i]! } : {}),
    pid: () => router.pid,
    stop: () => router.stop(),
    kill: () => router.kill(),
    pause: () => router.pause(),
    resume: () => router.resume(),
    restart: () => router.restart(),
  }));
}

/** The routers of a mesh under bus node hosts, driven through their lifecycle commands. */
function remoteRouters(mesh: RemoteSiteMesh): MeshRouter[] {
  // Each router's stop is its own node alone: the mesh's stop is for the whole bus.
  return mesh.routers.map((node) => ({ id: node.report.id, url: node.report.url, host: node.host, site: node.site, ...remoteLifecycle(node) }));
}

function busNodesOf(routers: MeshRouter[]): BusNode[] {
  return routers.map(({ id, ...router }) => ({ name: id, kind: 'router' as const, ...router }));
}

function meshStatistics(routers: MeshRouter[], flavor: RouterFlavor): () => Promise<{ routers: (RouterStatistics | { id: string; error: string })[] }> {
  return async () => ({
    routers: await Promise.all(routers.map((r) => routerStatistics(r.url, flavor).catch((error: Error) => ({ id: r.id, error: error.message })))),
  });
}

/** `routers` routers on this host, meshed as bus.router shapes them. */
async function deployLocalMesh(r: RouterDeployment, placement: BusPlacement): Promise<DeployedBus> {
  const [{ site, host }] = placement.sites as [BusPlacement['sites'][number]];
  // The scenario's rules ask for routers whenever the mesh is on this host (only bus sites go without).
  if (r.routers === undefined) throw new Error('bus.router.routers is not set: how many routers to deploy on this host');
  const mesh = await startLocalMesh(
    {
      routers: r.routers,
      ...(r.shape ? { shape: r.shape } : {}),
      ...(r.edges ? { edges: r.edges } : {}),
      ...(r.treeFanout ? { treeFanout: r.treeFanout } : {}),
    },
    { ...tuningOf(r), ...(placement.logsDir ? { keepLogsIn: placement.logsDir } : {}) },
  );
  const urls = mesh.routers.map((router) => router.url);
  const routers = localRouters(
    mesh,
    mesh.routers.map(() => host.name),
  );
  return {
    urls,
    endpoints: { [site]: urls[0]! },
    embedded: true,
    description: `${mesh.routers.length} local ${mesh.flavor} router(s) (${mesh.version})${r.shape ? `, ${r.shape} mesh` : ''}`,
    facts: { router: { flavor: mesh.flavor, version: mesh.version, routers: mesh.routers.map((router) => router.plan.id), distribution: distributionOf(r) } },
    ...(mesh.routers.length > 1 ? { minWarmupMs: MESH_MIN_WARMUP_MS } : {}),
    statistics: meshStatistics(routers, mesh.flavor),
    nodes: busNodesOf(routers),
    stop: () => mesh.stop(),
  };
}

/** A router per bus site in the namespace of the site's host (provider netns). */
async function startNamespaceRouters(router: RouterDeployment, placement: BusPlacement): Promise<SiteRouters> {
  const specs = placement.sites.map(({ site, host }) => ({ site, host: host.name, netns: host.thisMachine!.netns ?? '', address: host.address }));
  if (specs.some((s) => !s.netns)) throw new Error('routers on the sites of a topology need a network namespace per site (provider netns)');
  const mesh = await startSiteRouters(specs, placement.links, {
    ...tuningOf(router),
    ...(placement.logsDir ? { keepLogsIn: placement.logsDir } : {}),
    ...(placement.relayLinks ? { relayLinks: placement.relayLinks } : {}),
  });
  const hosts = placement.sites.map((s) => s.host.name);
  return { ...mesh, routers: localRouters(mesh, hosts, mesh.sites), where: "in its first host's namespace" };
}

/** The routers of a mesh across sites, however they were started. */
interface SiteRouters {
  flavor: RouterFlavor;
  version: string;
  sites: string[];
  graph: SiteMeshGraph;
  routers: MeshRouter[];
  /** where each router runs, for the description */
  where: string;
  stop(): Promise<void>;
}

/**
 * A router per bus site, linked along the site links (see startSiteRouters);
 * bus.router gives the flavor and tuning, while its router count and shape
 * give way to the sites.
 */
function deploySiteRouters(router: RouterDeployment, placement: BusPlacement, started: SiteRouters | RemoteSiteMesh): DeployedBus {
  const mesh: SiteRouters =
    'where' in started
      ? started
      : {
          ...started,
          routers: remoteRouters(started),
          where: `on its first host${placement.sites[0]!.host.reachedBy ? ` ${placement.sites[0]!.host.reachedBy}` : ''}`,
        };
  const endpoints = Object.fromEntries(mesh.routers.map((r, i) => [mesh.sites[i]!, r.url]));
  const n = mesh.routers.length;
  const ignored = (['routers', 'shape', 'edges', 'treeFanout'] as const).filter((field) => router[field] !== undefined);
  return {
    urls: Object.values(endpoints),
    endpoints,
    embedded: true,
    siteEdges: mesh.graph.edges.map(([a, b]) => [mesh.sites[a]!, mesh.sites[b]!]),
    description:
      `${n} ${mesh.flavor} router${n > 1 ? 's' : ''} (${mesh.version}), one per bus site (${mesh.sites.join(', ')}) ${mesh.where}, ${describeSiteMesh(mesh.sites, mesh.graph)}` +
      (ignored.length > 0
        ? ` (bus.router ${ignored.join(', ')} ignored: the sites decide the routers)`
        : ' (bus.router.routers and shape do not apply: the sites decide the routers)'),
    facts: {
      router: {
        flavor: mesh.flavor,
        version: mesh.version,
        routers: mesh.routers.map((r, i) => ({ site: mesh.sites[i], id: r.id, url: r.url, host: r.host })),
        mesh: mesh.graph.basis,
        links: describeEdges(mesh.sites, mesh.graph.edges),
        ...(mesh.graph.reason ? { fullMeshBecause: mesh.graph.reason } : {}),
        distribution: distributionOf(router),
      },
    },
    ...(n > 1 ? { minWarmupMs: siteMeshWarmupMs(n, mesh.graph.edges) } : {}),
    statistics: meshStatistics(mesh.routers, mesh.flavor),
    nodes: busNodesOf(mesh.routers),
    stop: () => mesh.stop(),
  };
}
