/**
 * The results model every run writes and every later reader (report,
 * compare, merge) reads. Bump RESULT_SCHEMA_VERSION on any incompatible change.
 * Each file busbench writes carries the version of its format; the formats
 * are published as JSON schemas generated from these types (schemas/,
 * `npm run schemas`).
 */
import type {
  LatencySummary,
  Counters,
  LegName,
  PairLegName,
  PatternName,
  Role,
  DeliveryAccount,
  WorkerClock,
  ResourceReport,
  ResourceRow,
} from './metrics.js';
import type { GeneratorLoad, IncidentTotals } from './control.js';
import type { Scenario } from './scenario.js';
import type { MeasuredLink, CutRecord } from './network.js';
import type { QueueBacklog } from './bus.js';

/** 3: delivery counts per message and per delivery, undelivered at stop, unsent, drain phase, connection losses, outcome */
export const RESULT_SCHEMA_VERSION = 3;
/** limit.json (LimitResult in limit.ts). 1: the first versioned format */
export const LIMIT_SCHEMA_VERSION = 1;
/** a campaign's runs.json (CampaignIndex in campaign.ts). 1: the first versioned format */
export const CAMPAIGN_INDEX_SCHEMA_VERSION = 1;
/** a campaign run's runs/<id>/done.json (DoneRecord in campaign.ts). 1: the first versioned format; records without a version, from older busbench, are version 1 */
export const DONE_SCHEMA_VERSION = 1;

export interface GroupResult {
  role: Role;
  /** "all" in the per-role overall rows */
  pattern: PatternName | 'all';
  agents: number;
  counters: Counters;
  /** completed messages (answered calls, sent casts, received messages) per second, over the group's window from its first measured send (or receipt) to its last completion */
  throughputPerSec: number;
  /** payload bytes sent (senders) or received (receivers) per second, over the same window */
  payloadBytesPerSec: number;
  /** microseconds: round trip for calls at clients, one-way for servers and listeners */
  latency?: LatencySummary;
  /** HDR compressed base64 of the latency histogram (µs) */
  histogram?: string;
  /**
   * At clients of calls: `corrected`, the open loop's latency from each
   * intended send time (timeouts count with their full wait); `processing`,
   * the server's time from request in to reply out; `reply`, the reply's
   * one-way trip. With `latency` (round trip = service time) and the
   * servers' one-way request latency, every leg of a call.
   */
  legs?: Partial<Record<LegName, LatencySummary & { histogram: string }>>;
}

/** One (role/pattern) group over one second of the measured phase. */
export interface TimeSeriesGroup {
  /** calls answered, messages sent (casts, notifications) or received, in this second */
  ok: number;
  errors: number;
  timeouts: number;
  /** payload bytes sent (senders) or received (receivers) in this second */
  bytes: number;
  /** latency of the messages completed in this second, µs (the group's primary latency: round trip at clients, one-way at receivers) */
  p50Us?: number;
  p90Us?: number;
  p99Us?: number;
  p999Us?: number;
  maxUs?: number;
  /** HDR compressed base64 of this second's latency histogram (µs): what histograms.hlog holds, mergeable later */
  histogram?: string;
}

/** One process's resource figures at the sample taken in this second (see resources.processes). */
export interface TimeSeriesResources {
  cpuCores: number;
  rssBytes: number;
  tcpConnections: number;
}

export interface TimeSeriesPoint {
  /** seconds since the measured phase began (end of the one-second interval) */
  second: number;
  /** per "role/pattern" */
  groups: Record<string, TimeSeriesGroup>;
  /** per watched process (by its name in resources.processes), when resources were sampled in this second */
  resources?: Record<string, TimeSeriesResources>;
}

export interface Provenance {
  busbench: string;
  node: string;
  argv: string[];
  host: { hostname: string; platform: string; release: string; arch: string; cpus: number; cpuModel: string; memoryBytes: number };
  /** what the bus said on connect, and for deployed routers their flavor and version */
  bus: { kind: string; product: string; version: string; protocol: string; url: string; embedded: boolean; router?: unknown };
  startedAt: string;
  endedAt: string;
}

/** An agent's bus connection that went away during the run. */
export interface ConnectionLoss {
  agent: string;
  /** ms into the phase it happened in */
  atMs: number;
  phase: 'warmup' | 'measure';
  error: string;
}

export interface RunOutcome {
  /** false: the run measured a failure of the bus (or of its own set-up), not the bus's performance */
  ok: boolean;
  problems: string[];
}

export interface RunResult {
  schemaVersion: typeof RESULT_SCHEMA_VERSION;
  id: string;
  scenario: Scenario;
  provenance: Provenance;
  /** worker threads used */
  workers: number;
  /** how that number was chosen */
  workersChosen: string;
  /** how the agent processes' V8 heaps were sized (runner.heap): for speed or for memory, and why when auto chose */
  heapChosen?: string;
  agents: {
    requested: Record<Role, number>;
    started: Record<Role, number>;
    failed: number;
    failures: { agent: string; error: string }[];
    startupMs: number;
    startedPerSec: number;
  };
  phases: {
    warmupMs: number;
    /** when the measured phase began (ISO 8601): second 0 of timeSeries and of histograms.hlog; absent in results of older busbench */
    measureStartedAt?: string;
    /** from the end of warm-up until sending stopped: the duration asked for, or until the senders sent their share */
    measuredMs: number;
    /** after sending stopped: messages in flight (calls waiting for replies) completing or timing out */
    drainMs: number;
    /** then: waiting for what was still on its way to the receivers, while it kept arriving */
    settleMs: number;
  };
  /** per (role, pattern), merged over all agents and workers */
  groups: GroupResult[];
  /** per role, merged over its patterns */
  overall: GroupResult[];
  /** per worker thread, per (role, pattern) */
  perWorker: { worker: number; groups: GroupResult[] }[];
  /** measured messages each server and listener received */
  receivedByAgent: Record<string, number>;
  /** replies that came after their call's timeout */
  lateReplies: number;
  /** replies that matched no waiting or timed-out call */
  unmatchedReplies: number;
  /** what the bus raised short of failing a call: link, channel and connection errors by kind (count, first message), malformed deliveries, returned replies */
  busIncidents: IncidentTotals;
  /** how load was offered, and what the latency figures therefore mean */
  loadModel: { arrival: 'closed' | 'fixed' | 'poisson'; description: string };
  /** per pattern: every measured message accounted for by (sender, sequence) */
  delivery: Partial<Record<PatternName, DeliveryAccount>>;
  /** what the bus still held per queue when the consumers stopped; absent when the bus cannot say (routers) */
  backlogAtStop?: QueueBacklog[];
  /** agents whose bus connection went away during the run (the first 1,000) */
  connectionLosses: ConnectionLoss[];
  connectionsLost: number;
  /** the run stopped before its end: Ctrl-C, SIGTERM, or the bus went away; its figures cover what ran */
  stoppedEarly?: { reason: string; partial: true };
  /** per pattern, the first error a client met (oslo's exception class and message): why, beside how many */
  firstErrors: Partial<Record<PatternName, string>>;
  /** whether anything worked; decides the exit code */
  outcome?: RunOutcome;
  /** each worker's clock offset against the coordinator, and how far one-way latencies can be trusted */
  clocks: { workers: WorkerClock[]; oneWayUncertaintyUs: number; note: string };
  /** was the load generator itself the bottleneck? */
  generator: {
    saturated: boolean;
    reasons: string[];
    workers: GeneratorLoad[];
    thresholds: { utilization: number; lagP99Ms: number; scheduleLagP50Ms: number };
  };
  /** per second of the measured phase, per (role/pattern) */
  timeSeries: TimeSeriesPoint[];
  /** busbench's own cost: CPU of this process (all threads) over the measured phase, and its peak RSS */
  harness: { cpuUserUs: number; cpuSystemUs: number; cpuCores: number; maxRssBytes: number };
  /** what the bus counted itself (router links, addresses, deliveries), when it can say */
  busStatistics?: unknown;
  /** CPU, RSS and TCP connections of the bus and agent processes per second of the measured phase, per host; RabbitMQ's own figures with bus.management */
  resources?: ResourceReport & { rows: ResourceRow[] };
  /** the geography the run had: sites, hosts, bus sites, agents per site, and the links asked for, applied (by which mechanism) and measured */
  topology?: {
    provider: string;
    sites: { name: string; hosts: number }[];
    busSites: string[];
    agentsBySite: Record<string, Record<string, number>>;
    /** facts: what each machine is (node, cores, memory, bus software), as its provider tells */
    hosts: { name: string; site: string; address: string; facts?: Record<string, unknown> }[];
    network?: {
      mechanisms: unknown[];
      measured: MeasuredLink[];
      /** agents' connections to a bus node on another site, through a delay relay in their agent host */
      relays: { host: string; url: string; via: string }[];
      /**
       * the bus's own connections between sites (Erlang distribution, inter-router links) through a
       * delay relay in busbench, where the kernel has no netem: the node of `from` dials `target`;
       * connections and bytes each way over the whole run. Empty: none needed one (netem, no delay,
       * one bus site) or the provider cannot relay them (ssh), and they crossed no configured delay.
       */
      busLinks: BusLinkRecord[];
    };
    /** dropouts and partitions as they happened, ms into the measured phase */
    disruptions: CutRecord[];
    /** constraints asked for that nothing in this run could carry */
    warnings?: string[];
  };
  /** where messages went: per (sender → receiver) site and host pair, in a run with sites */
  sitePairs?: SitePairs;
  /** the results directory, when written */
  directory?: string;
}

/**
 * Measured messages between two places (sites or hosts), as one side
 * recorded them. `role` says which side: `client` rows are calls answered,
 * by where the caller was (`from`) and where the server that answered was
 * (`to`); `server` and `listener` rows are messages received, by where the
 * sender was and where the receiver is. A multicast cast is counted once per
 * receiver; a call appears once as a client row and once as a server row.
 */
export interface PairResult {
  role: Role;
  pattern: PatternName;
  /** null: unknown, the message carried no busbench stamp (an oslo peer sent it) */
  from: string | null;
  /** null: unknown, the reply carried no stamp (an oslo or ombt server answered) */
  to: string | null;
  count: number;
  /** count over the measured phase */
  throughputPerSec: number;
  /** request: one-way at the receiver; roundTrip and reply: at the caller */
  legs: Partial<Record<PairLegName, LatencySummary & { histogram: string }>>;
}

export interface BusLinkRecord {
  from: string;
  to: string;
  what: string;
  target: string;
  via: string;
  forwardDelayMs: number;
  backwardDelayMs: number;
  jitterMs: number;
  connections: number;
  forwardBytes: number;
  backwardBytes: number;
}

/** How local the calls of one pattern were, for the callers of one site or of all ('all'), from the client rows. */
export interface CallLocality {
  pattern: PatternName;
  callerSite: string;
  /** calls answered, by a server whose site is known */
  calls: number;
  /** share of those answered by a server in the caller's own site, 0..1 */
  ownSite: number;
  /** share answered by a server in another site: oneHop + fartherHops */
  otherSite: number;
  /** share answered one hop away: in a site a link of topology.links joins to the caller's (sites no chain of links joins count as one hop: nothing is between them) */
  oneHop: number;
  /** share answered two or more hops away along topology.links */
  fartherHops: number;
  /** calls answered by a server that stamped no host (an oslo or ombt server): not in the shares */
  unknownSite: number;
  /**
   * mean over those calls of the delay topology.links configures between the caller's site and the
   * answering server's, both ways, ms: what the calls crossed if they went between the two sites
   * directly. The bus's path may cross a third site (sitePairs.queues). Where delay is added in user
   * space, the bus's own links carry it only if topology.network.busLinks lists them.
   */
  meanConfiguredDelayMs: number;
}

/** The sites the requests of some unicast calls crossed, caller's first, answering server's last. */
export interface UnicastPath {
  pattern: PatternName;
  from: string;
  to: string;
  /** the site of the node that held the server's queue (RabbitMQ, with bus.management), when known */
  queueSite?: string;
  /** every site on the way, along the bus's links between sites (a router mesh's; a cluster's nodes reach each other directly) */
  sites: string[];
  calls: number;
}

export interface SitePairs {
  note: string;
  bySite: PairResult[];
  byHost: PairResult[];
  /** per call pattern, per caller site and overall */
  locality: CallLocality[];
  /**
   * RabbitMQ: where this run's server and notification queues lived when it ended (quorum queues:
   * their leader), read from the management API; every call and cast crossed its queue's node.
   * Absent when it could not be read (no bus.management, or a bus busbench did not deploy).
   */
  queues?: { queue: string; type: string; node: string; site: string | null }[];
  /** unicast calls by the sites their requests crossed (replies go back the way the bus takes them, not recorded) */
  paths?: UnicastPath[];
}
