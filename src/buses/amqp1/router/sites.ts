/**
 * Routers across sites: one router per bus site, on the site's first host,
 * inside that host's network namespace, listening for agents and for other
 * routers on the host's address. The inter-router links follow the sites:
 * two routers are linked when topology.links constrains traffic between
 * their sites (in either direction); with no link among the bus sites, or
 * links that leave a router cut off, every router is linked to every other.
 */
import { breadthFirst } from '../../../util/graph.js';
import type { Edge } from './mesh.js';
import type { BusLink } from '../../../network/bus-link-relays.js';
import type { RouterPlan } from './config.js';
import { startLocalMesh, type LocalMesh, type LocalMeshOptions } from './local.js';

/** A bus site's router: where it runs. */
export interface SiteRouterSpec {
  site: string;
  /** network namespace of the site's first host */
  netns: string;
  /** that host's name */
  host: string;
  /** that host's address */
  address: string;
}

/** The inter-router links of a mesh of site routers, by router (= bus site) index. */
export interface SiteMeshGraph {
  edges: Edge[];
  /** single: one router; links: along topology.links; full: every router linked to every other */
  basis: 'single' | 'links' | 'full';
  /** why a full mesh, when it is one */
  reason?: string;
}

/** Routers reached from the first one along `edges`. */
function reachedFromFirst(edges: readonly Edge[]): Set<number> {
  return new Set(breadthFirst(0, edges).keys());
}

function fullMesh(n: number): Edge[] {
  const edges: Edge[] = [];
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) edges.push([i, j]);
  return edges;
}

/**
 * The mesh of routers on `busSites` (router i on busSites[i]) from the
 * topology's links (one per direction; links to sites without a router
 * are not inter-router links). Pure, so every case is tested without a router.
 */
export function siteMeshEdges(busSites: readonly string[], links: readonly { from: string; to: string }[]): SiteMeshGraph {
  const n = busSites.length;
  if (n === 0) throw new Error('a mesh of site routers needs at least one bus site');
  if (n === 1) return { edges: [], basis: 'single' };
  const index = new Map(busSites.map((site, i) => [site, i]));
  const seen = new Set<string>();
  const edges: Edge[] = [];
  for (const link of links) {
    const a = index.get(link.from);
    const b = index.get(link.to);
    if (a === undefined || b === undefined || a === b) continue;
    const edge: Edge = a < b ? [a, b] : [b, a];
    const key = edge.join('-');
    if (seen.has(key)) continue;
    seen.add(key);
    edges.push(edge);
  }
  edges.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  if (edges.length === 0) {
    return { edges: fullMesh(n), basis: 'full', reason: `no link in topology.links joins two bus sites (${busSites.join(', ')})` };
  }
  const reached = reachedFromFirst(edges);
  if (reached.size < n) {
    const apart = busSites.filter((_, i) => !reached.has(i));
    return {
      edges: fullMesh(n),
      basis: 'full',
      reason: `the links among bus sites (${describeEdges(busSites, edges)}) leave ${apart.join(', ')} cut off from ${busSites[0]}, and routers must form one network`,
    };
  }
  return { edges, basis: 'links' };
}

/** "a–b, b–c" */
export function describeEdges(busSites: readonly string[], edges: readonly Edge[]): string {
  return edges.map(([a, b]) => `${busSites[a]}–${busSites[b]}`).join(', ');
}

/** How the routers are linked, in words, for the run's log. */
export function describeSiteMesh(busSites: readonly string[], graph: SiteMeshGraph): string {
  switch (graph.basis) {
    case 'single':
      return 'a single router';
    case 'links':
      return `meshed along the site links: ${describeEdges(busSites, graph.edges)}`;
    case 'full':
      return `a full mesh, because ${graph.reason}`;
  }
}

export interface SiteMesh extends LocalMesh {
  /** router i serves sites[i] */
  sites: string[];
  graph: SiteMeshGraph;
}

/** Starts a router per site in its namespace, linked along `links`; ready when every router sees every other. */
export async function startSiteRouters(
  specs: readonly SiteRouterSpec[],
  links: readonly { from: string; to: string }[],
  options: Omit<LocalMeshOptions, 'placements' | 'beforeStart'> & { relayLinks?: (links: BusLink[]) => Promise<void> } = {},
): Promise<SiteMesh> {
  const sites = specs.map((s) => s.site);
  const graph = siteMeshEdges(sites, links);
  const { relayLinks, ...meshOptions } = options;
  const mesh = await startLocalMesh(
    { routers: specs.length, edges: graph.edges },
    {
      ...meshOptions,
      placements: specs.map((s) => ({ id: `Router.${s.site}`, netns: s.netns, address: s.address })),
      // Each connector is an inter-router connection the router of one site dials to another's.
      ...(relayLinks
        ? {
            beforeStart: (plans: RouterPlan[]) =>
              relayLinks(
                plans.flatMap((plan) =>
                  plan.connectors.map((c) => {
                    const to = plans.findIndex((p) => p.host === c.host && p.interRouterPort === c.port);
                    return {
                      from: sites[plan.index]!,
                      fromHost: specs[plan.index]!.host,
                      to: sites[to]!,
                      address: c.host,
                      port: c.port,
                      what: 'inter-router link',
                    };
                  }),
                ),
              ),
          }
        : {}),
    },
  );
  return Object.assign(mesh, { sites, graph });
}
