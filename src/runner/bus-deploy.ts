/**
 * The bus a run talks to: one given by URL, or one busbench deploys on this
 * host for the run (the embedded RabbitMQ, over AMQP 0-9-1 or its AMQP 1.0
 * plugin, or a mesh of routers). The runner only sees endpoints, a stop and
 * optional statistics; it never asks which.
 */
import { startLocalRabbit, type LocalRabbit } from '../../deploy/rabbitmq-local.js';
import type { ManagementEndpoint } from '../metrics/rabbit-management.js';
import { routerStatistics, type RouterStatistics } from '../../deploy/qdr/management.js';
import { startLocalMesh } from '../../deploy/qdr/router-local.js';
import type { BusConfig } from '../scenario/types.js';

export interface DeployedBus {
  /** transport URLs agents connect to, spread round-robin */
  urls: string[];
  /** busbench started it and stops it */
  embedded: boolean;
  /** one line for the log: what was deployed */
  description: string;
  /** facts for provenance beyond what the bus says on connect (router flavor and version) */
  facts?: Record<string, unknown>;
  /** what the bus itself counted, read at the end of the run */
  statistics?(): Promise<unknown>;
  /** the processes that are the bus (broker VMs, routers), for the resource metrics */
  processes?(): { name: string; kind: 'broker' | 'router'; site?: string; pid: number | undefined }[];
  /**
   * The shortest warm-up that gives correct figures on this bus: a router
   * learns of subscribers on the other routers of a mesh about a second
   * after they attach, and multicast sent before that misses them.
   */
  minWarmupMs?: number;
  /** RabbitMQ management APIs to sample, one per node (with bus.management) */
  management?: ({ name: string } & ManagementEndpoint)[];
  stop(): Promise<void>;
}

/** Measured 0.9–1.0 s for a 3-router chain to propagate a subscriber (qdrouterd 1.19); twice that, to be safe. */
export const MESH_MIN_WARMUP_MS = 2000;

export async function deployBus(bus: BusConfig, logsDir?: string): Promise<DeployedBus> {
  if (bus.url) return { urls: [bus.url], embedded: false, description: 'an existing bus', stop: async () => undefined };
  const keepLogs = logsDir ? { keepLogsIn: logsDir } : {};
  if (bus.kind === 'amqp1' && bus.router) {
    const r = bus.router;
    // The scenario's rules ask for routers whenever the mesh is on this host (only bus sites go without).
    if (r.routers === undefined) throw new Error('bus.router.routers is not set: how many routers to deploy on this host');
    const mesh = await startLocalMesh(
      { routers: r.routers, ...(r.shape ? { shape: r.shape } : {}), ...(r.edges ? { edges: r.edges } : {}), ...(r.treeFanout ? { treeFanout: r.treeFanout } : {}) },
      { flavor: r.flavor, ...(r.workerThreads ? { workerThreads: r.workerThreads } : {}), ...(r.linkCapacity ? { linkCapacity: r.linkCapacity } : {}), ...keepLogs },
    );
    return {
      urls: mesh.routers.map((router) => router.url),
      embedded: true,
      description: `${mesh.routers.length} local ${mesh.flavor} router(s) (${mesh.version})${r.shape ? `, ${r.shape} mesh` : ''}`,
      facts: { router: { flavor: mesh.flavor, version: mesh.version, routers: mesh.routers.map((router) => router.plan.id) } },
      ...(mesh.routers.length > 1 ? { minWarmupMs: MESH_MIN_WARMUP_MS } : {}),
      statistics: async (): Promise<{ routers: (RouterStatistics | { id: string; error: string })[] }> => ({
        routers: await Promise.all(
          mesh.routers.map((router) => routerStatistics(router.url, mesh.flavor).catch((error: Error) => ({ id: router.plan.id, error: error.message }))),
        ),
      }),
      processes: () => mesh.routers.map((router) => ({ name: router.plan.id, kind: 'router' as const, pid: router.pid })),
      stop: () => mesh.stop(),
    };
  }
  const amqp1 = bus.kind === 'amqp1';
  const broker = await startLocalRabbit({ ...keepLogs, plugins: brokerPlugins(bus) });
  return {
    urls: [amqp1 ? broker.amqp1Url : broker.transportUrl],
    embedded: true,
    description: `a local RabbitMQ ${broker.version}${amqp1 ? ' with its AMQP 1.0 plugin' : ''}`,
    processes: () => [{ name: broker.nodeName, kind: 'broker' as const, pid: broker.beamPid() }],
    ...(broker.managementPort ? { management: [managementOf(broker)] } : {}),
    stop: () => broker.stop(),
  };
}

/** The plugins a deployed broker needs: AMQP 1.0 for an amqp1 bus, management when asked for. */
export function brokerPlugins(bus: BusConfig): string[] {
  return [...(bus.kind === 'amqp1' ? ['rabbitmq_amqp1_0'] : []), ...(bus.management ? ['rabbitmq_management'] : [])];
}

/** A node's management API, as the resource sampler reads it (guest may log in from any address: loopback_users is none). */
export function managementOf(broker: LocalRabbit): { name: string } & ManagementEndpoint {
  return { name: broker.nodeName, url: `${broker.url.replace(/^amqp:\/\/[^@]*@([^:/]+):\d+\/$/, 'http://$1')}:${broker.managementPort}/`, user: 'guest', password: 'guest' };
}
