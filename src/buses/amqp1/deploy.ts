/**
 * An amqp1 bus on the hosts of a placement: with bus.router, a mesh of
 * routers (on the local provider `routers` of them on this host, shaped by
 * bus.router; with a topology one per bus site, in the namespace of the
 * site's host, linked along the site links); without, RabbitMQ with its
 * AMQP 1.0 plugin.
 */
import type { BusConfig, RouterDeployment } from '../../model/index.js';
import type { BusNode, BusPlacement, DeployedBus } from '../plugin.js';
import { deployRabbit } from '../rabbitmq/deploy.js';
import { routerStatistics, type RouterStatistics } from './router/management.js';
import { startLocalMesh, type LocalMesh } from './router/local.js';
import { describeEdges, describeSiteMesh, startSiteRouters } from './router/sites.js';

/** Measured 0.9–1.0 s for a 3-router chain to propagate a subscriber (qdrouterd 1.19); twice that, to be safe. */
export const MESH_MIN_WARMUP_MS = 2000;

export async function deployAmqp1(bus: BusConfig, placement: BusPlacement): Promise<DeployedBus> {
  if (!bus.router) return deployRabbit(bus, placement, 'amqp-1.0');
  if (!placement.sites.every((s) => s.host.thisMachine)) {
    throw new Error(
      'routers are deployed on this machine only (provider local or netns): routers over ssh are not supported yet; remove bus.router, or use provider netns',
    );
  }
  return placement.topology ? deploySiteRouters(bus.router, placement) : deployLocalMesh(bus.router, placement);
}

function busNodesOf(mesh: LocalMesh, hosts: string[], sites: (string | undefined)[]): BusNode[] {
  return mesh.routers.map((router, i) => ({
    name: router.plan.id,
    kind: 'router' as const,
    ...(sites[i] !== undefined ? { site: sites[i] } : {}),
    host: hosts[i]!,
    url: router.url,
    pid: () => router.pid,
    stop: () => router.stop(),
    kill: () => router.kill(),
    pause: () => router.pause(),
    resume: () => router.resume(),
    restart: () => router.restart(),
  }));
}

function meshStatistics(mesh: LocalMesh): () => Promise<{ routers: (RouterStatistics | { id: string; error: string })[] }> {
  return async () => ({
    routers: await Promise.all(
      mesh.routers.map((r) => routerStatistics(r.url, mesh.flavor).catch((error: Error) => ({ id: r.plan.id, error: error.message }))),
    ),
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
    {
      flavor: r.flavor,
      ...(r.workerThreads ? { workerThreads: r.workerThreads } : {}),
      ...(r.linkCapacity ? { linkCapacity: r.linkCapacity } : {}),
      ...(placement.logsDir ? { keepLogsIn: placement.logsDir } : {}),
    },
  );
  const urls = mesh.routers.map((router) => router.url);
  return {
    urls,
    endpoints: { [site]: urls[0]! },
    embedded: true,
    description: `${mesh.routers.length} local ${mesh.flavor} router(s) (${mesh.version})${r.shape ? `, ${r.shape} mesh` : ''}`,
    facts: { router: { flavor: mesh.flavor, version: mesh.version, routers: mesh.routers.map((router) => router.plan.id) } },
    ...(mesh.routers.length > 1 ? { minWarmupMs: MESH_MIN_WARMUP_MS } : {}),
    statistics: meshStatistics(mesh),
    nodes: busNodesOf(
      mesh,
      mesh.routers.map(() => host.name),
      mesh.routers.map(() => undefined),
    ),
    stop: () => mesh.stop(),
  };
}

/**
 * A router per bus site, in the namespace of the site's host, linked along
 * the site links (see startSiteRouters); bus.router gives the flavor and
 * tuning, while its router count and shape give way to the sites.
 */
async function deploySiteRouters(router: RouterDeployment, placement: BusPlacement): Promise<DeployedBus> {
  const specs = placement.sites.map(({ site, host }) => ({ site, netns: host.thisMachine!.netns ?? '', address: host.address }));
  if (specs.some((s) => !s.netns)) throw new Error('routers on the sites of a topology need a network namespace per site (provider netns)');
  const mesh = await startSiteRouters(specs, placement.links, {
    flavor: router.flavor,
    ...(router.workerThreads ? { workerThreads: router.workerThreads } : {}),
    ...(router.linkCapacity ? { linkCapacity: router.linkCapacity } : {}),
    ...(placement.logsDir ? { keepLogsIn: placement.logsDir } : {}),
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
      (ignored.length > 0
        ? ` (bus.router ${ignored.join(', ')} ignored: the sites decide the routers)`
        : ' (bus.router.routers and shape do not apply: the sites decide the routers)'),
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
    statistics: meshStatistics(mesh),
    nodes: busNodesOf(
      mesh,
      placement.sites.map((s) => s.host.name),
      mesh.sites,
    ),
    stop: () => mesh.stop(),
  };
}
