/**
 * The contract of a bus kind. Each kind is one folder under src/buses/
 * holding its driver, its node lifecycle, its deployment onto hosts, its
 * statistics and its part of the scenario schema; registry.ts lists the
 * kinds, and nothing else in busbench names one.
 */
import type { BusConfig, DriverConfig } from '../model/index.js';
import type { BusDriver } from './driver.js';
import type { BusHost } from './host.js';
import type { HostedNode, NodeHostSession, NodeLifecycle } from './node-host.js';
import type { ManagementEndpoint } from './rabbitmq/management.js';
import type { BusLink } from '../network/bus-link-relays.js';

/**
 * One process of a deployed bus (a broker node, a router), with the
 * lifecycle fault injection needs: each operation acts on this node only,
 * and restart brings it back at the same address and port.
 */
export interface BusNode extends NodeLifecycle {
  name: string;
  kind: 'broker' | 'router';
  /** the bus site it serves, with a topology */
  site?: string;
  /** the host it runs on (its pid is that host's) */
  host: string;
  /** the transport URL agents use to reach it */
  url: string;
}

/** A bus ready for agents: busbench deployed it (and stops it), or it was given by URL. */
export interface DeployedBus {
  /** transport URLs agents connect to, spread round-robin */
  urls: string[];
  /** the URL agents of each bus site use (topologies); without one, the single site "local" */
  endpoints: Record<string, string>;
  /** busbench started it and stops it */
  embedded: boolean;
  /** one line for the log: what was deployed */
  description: string;
  /** facts for provenance beyond what the bus says on connect (router flavor and version, nodes) */
  facts?: Record<string, unknown>;
  /** the processes that are the bus, for the resource metrics and fault injection (none for a bus given by URL) */
  nodes: BusNode[];
  /** what the bus itself counted, read at the end of the run */
  statistics?(): Promise<unknown>;
  /**
   * The shortest warm-up that gives correct figures on this bus: a router
   * learns of subscribers on the other routers of a mesh about a second
   * after they attach, and multicast sent before that misses them.
   */
  minWarmupMs?: number;
  /**
   * Bus sites whose nodes pass messages to each other directly (a router mesh's links), for the
   * paths of unicast calls; absent: every pair of nodes directly (a RabbitMQ cluster)
   */
  siteEdges?: [string, string][];
  /** RabbitMQ management APIs to sample, one per node (with bus.management) */
  management?: ({ name: string } & ManagementEndpoint)[];
  stop(): Promise<void>;
}

/** Where a bus goes: one host per bus site (that site's first host), and the links between sites. */
export interface BusPlacement {
  /** the bus sites in order, with the host each site's node runs on */
  sites: { site: string; host: BusHost }[];
  links: readonly { from: string; to: string }[];
  /** whether the sites are a topology's (false: the one host of the local provider) */
  topology: boolean;
  /** copy the nodes' logs here when they stop */
  logsDir?: string;
  /**
   * Call with every connection one node will open to another on another site, once their
   * ports are known and before the nodes start: where the kernel cannot delay them the
   * provider relays them (absent: nothing to do).
   */
  relayLinks?(links: readonly BusLink[]): Promise<void>;
}

/** A scenario's bus mapping as validated (snake_case); each kind reads its own fields. */
export interface RawBus {
  kind: string;
  url?: string;
  [field: string]: unknown;
}

/**
 * A kind's rules between fields of the scenario, run for every scenario
 * whatever its kind (a field of this kind set on another is this kind's to
 * refuse). `valuesOnly`: only the checks of single values (URLs), as for
 * the standalone agents' scenarios.
 */
export type BusFieldCheck = (
  bus: RawBus,
  context: { provider?: string; valuesOnly: boolean },
  add: (path: (string | number)[], message: string) => void,
) => void;

export interface BusPlugin {
  kind: BusConfig['kind'];
  /** one line for the schema and --help: what this kind is */
  summary: string;
  /** its fields of the scenario's `bus:` mapping, as JSON schema properties (the registry merges every kind's) */
  fields: Record<string, unknown>;
  checkBus: BusFieldCheck;
  /** its fields of a validated bus mapping, as the resolved BusConfig names them */
  toConfig(bus: RawBus): Partial<BusConfig>;
  /** the transport URL scheme oslo reads as this kind, for help texts (rabbit://) */
  scheme: string;
  /** URL schemes a `bus.url` of this kind may have, and what to write instead of another */
  urlSchemes: RegExp;
  createDriver(config: DriverConfig): BusDriver;
  /** deploys this bus on the hosts of the placement; a failure stops whatever it started */
  deploy(bus: BusConfig, placement: BusPlacement): Promise<DeployedBus>;
  /**
   * Runs one node of this kind on this host for a busbench elsewhere, under
   * the bus node entry (`bus-node <kind> <flags>`): what its deploy starts on
   * hosts reached over ssh. `argv` is its own flags.
   */
  hostNode?(argv: string[], session: NodeHostSession): Promise<HostedNode>;
}
