/**
 * What busbench measures, as data: the roles and traffic patterns of its
 * groups, their counters and latency summaries, the per-message delivery
 * account, the workers' clock offsets, and what the bus and agent processes
 * cost in resources. The code that records, merges, samples and judges these
 * figures is in src/metrics/.
 */

// The header above documents this file: the first declaration carries a doc
// comment of its own, or the schema generator would take the header for its.

/**
 * Pattern names as they appear in results: "call-anycast", "cast-multicast", "notify".
 * The order is fixed so agents can index arrays by pattern instead of hashing strings.
 */
export const PATTERNS = ['call-unicast', 'call-anycast', 'cast-unicast', 'cast-anycast', 'cast-multicast', 'notify'] as const;
export type PatternName = (typeof PATTERNS)[number];

export type Role = 'client' | 'server' | 'notifier' | 'listener';

export interface Counters {
  /** messages sent (clients, notifiers) */
  sent: number;
  /** calls answered, or messages received (servers, listeners) */
  ok: number;
  /** calls answered with a failure or lost in flight, or casts the bus refused after taking them */
  errors: number;
  /** calls without a reply within their timeout */
  timeouts: number;
  /** messages the bus never took (the connection was closed or lost before the send): not in `sent` */
  unsent: number;
  /** payload bytes sent (clients, notifiers) or received (servers, listeners) */
  bytes: number;
  /** epoch ms of the first measured send or receipt (0: none): with lastAt, the window throughput is computed over */
  firstAt: number;
  /** epoch ms of the last measured completion or receipt */
  lastAt: number;
}

/**
 * Latencies besides each group's primary one (round trip at clients, one-way
 * at receivers): at clients of calls, the open-loop latency counted from the
 * intended send time, the server's processing time and the reply's one-way
 * trip (from the reply's timestamps).
 */
export const LEGS = ['corrected', 'processing', 'reply'] as const;
export type LegName = (typeof LEGS)[number];

/** What crosses the thread boundary and lands in results: counters plus encoded histograms. */
export interface GroupSnapshot {
  role: Role;
  pattern: PatternName;
  counters: Counters;
  /** HDR compressed base64, microseconds; absent when nothing was recorded */
  histogram?: string;
  /** the other legs, encoded likewise, when recorded */
  legs?: Partial<Record<LegName, string>>;
  /** agents of this role that contributed */
  agents: number;
}

export interface LatencySummary {
  count: number;
  minUs: number;
  meanUs: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  p999Us: number;
  maxUs: number;
}

/**
 * The latencies a site pair keeps: the request's one-way trip (recorded where
 * it arrived), the round trip and the reply's one-way trip (recorded at the
 * caller, from the reply's stamps).
 */
export const PAIR_LEGS = ['request', 'roundTrip', 'reply'] as const;
export type PairLegName = (typeof PAIR_LEGS)[number];

/**
 * One worker's measured messages between two hosts, per pattern and per the
 * side that recorded them: a client (calls answered, by the host that
 * answered) or a receiver (server, listener: messages received, by the host
 * that sent them). Only in runs with sites.
 */
export interface PairSnapshot {
  role: Role;
  pattern: PatternName;
  /** the sending agent's host; null: the message carried no busbench stamp (an oslo peer sent it) */
  from: string | null;
  /** the answering or receiving agent's host; null: the reply carried no stamp (an oslo or ombt server answered) */
  to: string | null;
  count: number;
  /** encoded HDR histograms (µs), per leg recorded */
  legs: Partial<Record<PairLegName, string>>;
}

/** One receiver's receipts from one sender, as exported: bit i of `bits` (LSB first) is sequence number base + i. */
export interface SenderReceipts {
  base: number;
  bits: Uint8Array;
  /** distinct sequence numbers received (the set bits) */
  received: number;
  /** receipts of a sequence number already received */
  duplicates: number;
  /** first receipts of a sequence number below the highest already received */
  reordered: number;
}

/** What one receiver got, by sender id (as a string: a plain object survives postMessage). */
export type ExportedReceipts = Record<string, SenderReceipts>;

/**
 * Two units, never mixed in one sum. Per message: sent = complete +
 * partial + reached none (delivered = complete + partial). Per delivery (a
 * message × one expected receiver; the same as per message except for
 * multicast): expectedDeliveries = receivedDeliveries + undeliveredAtStop
 * + lost. Duplicates and unexpected receipts are extra deliveries, outside
 * those sums.
 */
export interface DeliveryAccount {
  /** messages: the sum of the senders' counts */
  sent: number;
  /** messages that reached at least one receiver */
  delivered: number;
  /** deliveries: each message × the receivers it should reach (every server for multicast, else one) */
  expectedDeliveries: number;
  /** deliveries: distinct expected receivers each message reached, at most the expected number per message */
  receivedDeliveries: number;
  /**
   * deliveries still held by the bus when the run stopped (its queue depths
   * after the consumers stopped): not lost, just not consumed in time
   */
  undeliveredAtStop: number;
  /** deliveries missing with nothing left in the bus to explain them (expected − received − undelivered at stop) */
  lost: number;
  /** whether the bus reported what it still held: without, `lost` also includes whatever was still queued or in flight */
  backlogReported: boolean;
  /**
   * extra copies: the same receiver again (every repeat a receiver logged, in
   * range or not), plus distinct receivers beyond the expected number
   */
  duplicated: number;
  /** arrivals behind a later message of the same sender, at the same receiver */
  reordered: number;
  /** distinct (receiver, sender, seq) receipts outside every sent range (warm-up leftovers, a sender that reported nothing) */
  unexpected: number;
  /** messages that reached every expected receiver */
  complete: number;
  /** when any sender expects more than one receiver: how many of those senders' messages reached k distinct receivers, k = 0, 1, … */
  receiversPerMessage?: number[];
}

export interface ClockOffset {
  /** the other clock minus the coordinator's, ms */
  offsetMs: number;
  /** the true offset is within ± this of offsetMs, ms */
  uncertaintyMs: number;
  /** samples given */
  samples: number;
  /** samples kept (the lowest-delay quarter, at least one) */
  used: number;
  /** the quickest round trip, ms */
  minDelayMs: number;
}

export interface WorkerClock extends ClockOffset {
  worker: number;
}

// What the processes cost: the resource sampler's report (src/metrics/resources.ts).

export interface WatchedProcess {
  name: string;
  kind: 'broker' | 'router' | 'agents' | 'coordinator' | 'other';
  host: string;
  pid: number;
}

export interface ResourceFigures {
  /** CPU time used per wall-clock time since the previous sample: 1 = one core busy */
  cpuCores: number;
  rssBytes: number;
  tcpConnections: number;
}

export interface ResourceSample extends ResourceFigures {
  /** ms since the sampler started */
  t: number;
}

export interface ProcessResources extends WatchedProcess {
  samples: ResourceSample[];
  peak: ResourceFigures;
  mean: ResourceFigures;
  /** ms since the sampler started when it was first found exited; it is not read again, since its pid may be reused */
  goneAt?: number;
}

export interface HostResources {
  host: string;
  /** its processes' samples of each tick, summed */
  samples: ResourceSample[];
  peak: ResourceFigures;
  mean: ResourceFigures;
}

export interface RabbitFigures {
  queues: number;
  /** summed over the node's queues */
  messagesReady: number;
  messagesUnacknowledged: number;
  connections: number;
  channels: number;
}

export interface RabbitSample extends RabbitFigures {
  /** ms since the sampler started, when the request left */
  t: number;
}

export interface RabbitResources {
  name: string;
  samples: RabbitSample[];
  peak: RabbitFigures;
  /** requests that failed or timed out */
  errors: number;
  lastError?: string;
}

export interface ResourceReport {
  intervalMs: number;
  processes: ProcessResources[];
  hosts: HostResources[];
  rabbitmq: RabbitResources[];
  /** distinct failures other than exited processes and management requests (processes() throwing, a /proc file not readable) */
  errors: string[];
}

export interface ResourceRow {
  name: string;
  kind: WatchedProcess['kind'] | 'host';
  host: string;
  peakCpuCores: number;
  meanCpuCores: number;
  peakRssMiB: number;
  peakTcpConnections: number;
}
