/**
 * Routers on hosts busbench reaches over ssh: one per bus site, each under
 * a bus node host there (hosted.ts), linked along the site links as on
 * this machine (sites.ts). Each host first says which router it has and
 * which ports are free; busbench plans the mesh from those and sends each
 * its part; all are ready when each sees every other router.
 */
import type { BusHost } from '../../host.js';
import { awaitReady, openRemoteBusNode, type RemoteBusNode, type RemoteNodeSession } from '../../remote-node.js';
import { planMesh, type RouterFlavor, type RouterTuning } from './config.js';
import type { RouterConfigureFrame, RouterNodeFacts, RouterPortsFrame } from './hosted.js';
import { siteMeshEdges, type SiteMeshGraph } from './sites.js';

/** A router has to be found and its version asked: seconds, not the minute a broker may take. */
const PORTS_TIMEOUT_MS = 30_000;

export interface RemoteSiteMesh {
  flavor: RouterFlavor;
  version: string;
  /** router i serves sites[i] */
  sites: string[];
  graph: SiteMeshGraph;
  routers: RemoteBusNode<RouterNodeFacts>[];
  stop(): Promise<void>;
}

function checkPorts(frame: unknown, session: RemoteNodeSession): RouterPortsFrame {
  const report = frame as (Partial<RouterPortsFrame> & { ready?: boolean; error?: string }) | null;
  if (report?.ready === false) throw new Error(`the router on ${session.host} could not start: ${report.error}`);
  if (report?.stage !== 'ports' || !Number.isInteger(report.port) || !Number.isInteger(report.interRouterPort)) {
    throw new Error(`the bus node host on ${session.host} sent ${JSON.stringify(frame).slice(0, 200)} instead of its router's ports`);
  }
  return report as RouterPortsFrame;
}

export async function startRemoteSiteRouters(
  sites: readonly { site: string; host: BusHost }[],
  links: readonly { from: string; to: string }[],
  options: { flavor?: RouterFlavor | 'auto' } & Pick<RouterTuning, 'workerThreads' | 'linkCapacity' | 'distribution'> = {},
): Promise<RemoteSiteMesh> {
  const names = sites.map((s) => s.site);
  const graph = siteMeshEdges(names, links);
  const sessions: RemoteNodeSession[] = [];
  const stopAll = async (): Promise<void> => void (await Promise.all(sessions.map((s) => s.stop())));
  try {
    for (const { site, host } of sites) {
      sessions.push(openRemoteBusNode(host, ['amqp1', '--flavor', options.flavor ?? 'auto', '--address', host.address], site));
    }
    const ports = await Promise.all(sessions.map(async (s) => checkPorts(await s.next('report its router', PORTS_TIMEOUT_MS), s)));
    const flavors = new Set(ports.map((p) => p.flavor));
    if (flavors.size > 1) {
      throw new Error(
        `the bus sites' hosts have different routers (${ports.map((p, i) => `${sessions[i]!.host}: ${p.flavor}`).join(', ')}), and a mesh is of one kind: set bus.router.flavor`,
      );
    }
    const plans = planMesh(
      { routers: sites.length, edges: graph.edges },
      {
        ids: names.map((site) => `Router.${site}`),
        hosts: sites.map((s) => s.host.address),
        ports: ports.map((p) => p.port),
        interRouterPorts: ports.map((p) => p.interRouterPort),
      },
    );
    const tuning = {
      ...(options.workerThreads ? { workerThreads: options.workerThreads } : {}),
      ...(options.linkCapacity ? { linkCapacity: options.linkCapacity } : {}),
      ...(options.distribution ? { distribution: options.distribution } : {}),
    };
    sessions.forEach((s, i) => s.send({ stage: 'configure', plan: plans[i], routers: plans.length, tuning } satisfies RouterConfigureFrame));
    // The first that fails stops them all: the others would wait for it until their own timeout.
    const routers = await Promise.all(sessions.map((s) => awaitReady<RouterNodeFacts>(s)));
    return { flavor: ports[0]!.flavor, version: ports[0]!.version, sites: names, graph, routers, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
