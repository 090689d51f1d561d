/**
 * Where oslo targets live on an AMQP 1.0 bus. Routers (Qpid Dispatch,
 * skupper-router) take oslo's own addresses, routable (the default of the
 * oslo amqp driver) or legacy; RabbitMQ's AMQP 1.0 plugin takes neither, so
 * against a broker the same targets map onto its /queue and /exchange
 * addresses (../shared/REFERENCE.md §1; oslo_messaging/_drivers/amqp1_driver/addressing.py).
 */

export type Addressing = 'routable' | 'legacy';
export type Amqp1Peer = 'router' | 'broker';

export interface AddressPlan {
  anycast(topic: string, exchange?: string): string;
  unicast(topic: string, server: string, exchange?: string): string;
  multicast(topic: string, exchange?: string): string;
  /** notifications on `<topic>.<priority>` */
  notify(topic: string, priority: string, exchange?: string): string;
}

/** The address prefixes a router must be configured with, and their distributions. */
export const ROUTABLE_PREFIXES = {
  rpcUnicast: 'openstack.org/om/rpc/unicast',
  rpcAnycast: 'openstack.org/om/rpc/anycast',
  rpcMulticast: 'openstack.org/om/rpc/multicast',
  notifyUnicast: 'openstack.org/om/notify/unicast',
  notifyAnycast: 'openstack.org/om/notify/anycast',
  notifyMulticast: 'openstack.org/om/notify/multicast',
} as const;

export const LEGACY_PREFIXES = { unicast: 'exclusive', anycast: 'unicast', multicast: 'broadcast' } as const;

export function routableAddresses(defaultExchange: string): AddressPlan {
  const p = ROUTABLE_PREFIXES;
  return {
    anycast: (topic, exchange = defaultExchange) => `${p.rpcAnycast}/${exchange}/${topic}`,
    unicast: (topic, server, exchange = defaultExchange) => `${p.rpcUnicast}/${exchange}/${topic}/${server}`,
    multicast: (topic, exchange = defaultExchange) => `${p.rpcMulticast}/${exchange}/${topic}`,
    notify: (topic, priority, exchange = defaultExchange) => `${p.notifyAnycast}/${exchange}/${topic}.${priority}`,
  };
}

/** oslo's LegacyAddresser: `exclusive.<exchange>.<topic>.<server>`, `unicast.<exchange>.<topic>`, `broadcast.<exchange>.<topic>.all`. */
export function legacyAddresses(defaultExchange: string): AddressPlan {
  const p = LEGACY_PREFIXES;
  return {
    anycast: (topic, exchange = defaultExchange) => `${p.anycast}.${exchange}.${topic}`,
    unicast: (topic, server, exchange = defaultExchange) => `${p.unicast}.${exchange}.${topic}.${server}`,
    multicast: (topic, exchange = defaultExchange) => `${p.multicast}.${exchange}.${topic}.all`,
    notify: (topic, priority, exchange = defaultExchange) => `${p.anycast}.${exchange}.${topic}.${priority}`,
  };
}

/**
 * RabbitMQ's plugin: queues for anycast, unicast and notifications (one
 * consumer of many gets each message); for multicast each receiver of
 * `/exchange/amq.topic/<key>` gets a queue of its own bound to the key.
 * Names are prefixed `om.` so they never collide with the 0-9-1 driver's
 * queues on the same broker.
 */
export function brokerAddresses(defaultExchange: string): AddressPlan {
  return {
    anycast: (topic, exchange = defaultExchange) => `/queue/om.rpc.anycast.${exchange}.${topic}`,
    unicast: (topic, server, exchange = defaultExchange) => `/queue/om.rpc.unicast.${exchange}.${topic}.${server}`,
    multicast: (topic, exchange = defaultExchange) => `/exchange/amq.topic/om.rpc.multicast.${exchange}.${topic}`,
    notify: (topic, priority, exchange = defaultExchange) => `/queue/om.notify.${exchange}.${topic}.${priority}`,
  };
}

export function addressPlan(peer: Amqp1Peer, addressing: Addressing, exchange: string): AddressPlan {
  if (peer === 'broker') return brokerAddresses(exchange);
  return addressing === 'legacy' ? legacyAddresses(exchange) : routableAddresses(exchange);
}

/** Routers announce themselves in the open frame's product property. */
export function peerKind(product: string | undefined): Amqp1Peer {
  return /router|dispatch/i.test(product ?? '') ? 'router' : 'broker';
}
