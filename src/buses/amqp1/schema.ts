/**
 * AMQP 1.0's part of a scenario's `bus:` mapping (snake_case, as users
 * write it) and its rules between fields: oslo's addressing and credit, and
 * the routers busbench deploys. The fields merge into the one `bus` mapping
 * of src/scenario/schema.ts through the registry.
 */
import type { FromSchema } from 'json-schema-to-ts';
import { OSLO_DISTRIBUTION, type RouterDeployment } from '../../model/index.js';
import type { BusFieldCheck } from '../plugin.js';
import { hideCredentials } from '../../util/url.js';
import { meshEdges } from './router/mesh.js';

const ROUTER_INDEX = { type: 'integer', minimum: 0 } as const;

export const amqp1BusFields = {
  addressing: { enum: ['routable', 'legacy'], default: 'routable', description: 'amqp1 against routers: oslo address scheme' },
  credit: { type: 'integer', minimum: 1, default: 100, description: 'amqp1: credit window of server and listener links' },
  router: {
    type: 'object',
    additionalProperties: false,
    description:
      'amqp1: routers busbench deploys: `routers` of them on this host, or with topology provider netns one per bus site (then without routers, shape, edges, tree_fanout)',
    properties: {
      routers: { type: 'integer', minimum: 1, maximum: 64 },
      shape: { enum: ['single', 'chain', 'ring', 'star', 'full', 'tree'] },
      edges: { type: 'array', items: { type: 'array', items: [ROUTER_INDEX, ROUTER_INDEX], minItems: 2, additionalItems: false } },
      tree_fanout: { type: 'integer', minimum: 1 },
      flavor: { enum: ['auto', 'qdrouterd', 'skrouterd'], default: 'auto' },
      worker_threads: { type: 'integer', minimum: 1 },
      link_capacity: { type: 'integer', minimum: 1 },
      distribution: {
        type: 'object',
        additionalProperties: false,
        description:
          "how the routers spread oslo's unicast and anycast addresses: closest (strict locality: the nearest consumer) or balanced (locality-aware load sharing); oslo's defaults are unicast closest, anycast balanced",
        properties: {
          unicast: { enum: ['closest', 'balanced'] },
          anycast: { enum: ['closest', 'balanced'] },
        },
      },
    },
  },
} as const;

/** bus.router as validated: its type derived from the fragment above, so the format is described once. */
type RawRouter = FromSchema<typeof amqp1BusFields.router>;

export const checkAmqp1Bus: BusFieldCheck = (bus, context, add) => {
  if (bus.kind === 'amqp1' && bus.url !== undefined && !/^amqps?:\/\//.test(bus.url)) {
    add(
      ['bus', 'url'],
      `an amqp1 bus takes an amqp:// URL (oslo's AMQP 1.0 driver), got "${hideCredentials(bus.url)}"; for RabbitMQ over AMQP 0-9-1 set bus.kind: rabbitmq`,
    );
  }
  const router = bus['router'] as RawRouter | undefined;
  if (!router || context.valuesOnly) return;
  if (bus.kind !== 'amqp1') add(['bus', 'router'], 'routers speak AMQP 1.0: set bus.kind: amqp1, or remove bus.router');
  if (bus.url !== undefined) add(['bus', 'router'], 'bus.url uses a running bus and bus.router deploys one: give only one of them');
  if (context.provider === 'netns' || context.provider === 'ssh') {
    // One router per bus site, linked along topology.links: the mesh fields of provider local do not apply.
    for (const field of ['routers', 'shape', 'edges', 'tree_fanout'] as const) {
      if (router[field] !== undefined) {
        add(
          ['bus', 'router', field],
          `with provider ${context.provider} there is one router per bus site (topology.bus), linked along topology.links: remove bus.router.${field}, and list the router sites in topology.bus`,
        );
      }
    }
  }
  const sitesDecideRouters = context.provider !== undefined && context.provider !== 'local';
  if (!sitesDecideRouters) {
    const { routers, shape, edges, tree_fanout: treeFanout } = router;
    if (routers === undefined) add(['bus', 'router'], 'bus.router needs routers: how many routers to deploy on this host (1 … 64)');
    else {
      try {
        meshEdges({ routers, ...(shape ? { shape } : {}), ...(edges ? { edges } : {}), ...(treeFanout ? { treeFanout } : {}) });
      } catch (error) {
        add(['bus', 'router'], (error as Error).message);
      }
    }
  }
};

/** The scenario's bus fields AMQP 1.0 reads, camelCased for the resolved BusConfig. */
export function amqp1BusConfig(bus: Record<string, unknown>): { addressing: 'routable' | 'legacy'; credit: number; router?: RouterDeployment } {
  const router = bus['router'] as RawRouter | undefined;
  return {
    addressing: bus['addressing'] as 'routable' | 'legacy',
    credit: bus['credit'] as number,
    ...(router
      ? {
          router: {
            ...(router.routers !== undefined ? { routers: router.routers } : {}),
            ...(router.shape ? { shape: router.shape } : {}),
            ...(router.edges ? { edges: router.edges } : {}),
            ...(router.tree_fanout ? { treeFanout: router.tree_fanout } : {}),
            flavor: router.flavor,
            ...(router.worker_threads ? { workerThreads: router.worker_threads } : {}),
            ...(router.link_capacity ? { linkCapacity: router.link_capacity } : {}),
            ...(router.distribution
              ? {
                  distribution: {
                    unicast: router.distribution.unicast ?? OSLO_DISTRIBUTION.unicast,
                    anycast: router.distribution.anycast ?? OSLO_DISTRIBUTION.anycast,
                  },
                }
              : {}),
          },
        }
      : {}),
  };
}
