/**
 * The network between sites, as data: what a link is asked to suffer, what
 * ping measured on it, and the cuts (dropouts, partitions) as planned and
 * as they happened. The plans, commands, relays and measurements themselves
 * are in src/network/.
 */

/** One direction between two sites: what traffic from `from` to `to` suffers. */
export interface LinkConstraint {
  from: string;
  to: string;
  delayMs?: number;
  jitterMs?: number;
  lossPercent?: number;
  rateMbit?: number;
}

export interface MeasuredLink {
  from: string;
  to: string;
  /** asked for, one way */
  requested: { delayMs?: number; jitterMs?: number; lossPercent?: number; rateMbit?: number };
  /** ping's figures over `probes` echoes: round trip (both directions' delays), loss of the round trip */
  measured: { probes: number; rttAvgMs: number | undefined; rttMdevMs: number | undefined; lossPercent: number };
  /** the part of the delay ping cannot see, as it is added in user space on bus connections */
  relayedDelayMs: number;
}

/** A cut while it is planned: which site pairs go down, when (ms into the measured phase), for how long. */
export interface CutWindow {
  kind: 'dropout' | 'partition';
  /** what the scenario called it: "a↔b", or "isolate c" */
  label: string;
  pairs: [string, string][];
  atMs: number;
  forMs: number;
}

export interface CutRecord {
  kind: CutWindow['kind'];
  label: string;
  pairs: [string, string][];
  plannedAtMs: number;
  plannedForMs: number;
  /** when the cut was in place and when it was lifted, ms into the measured phase */
  startedAtMs?: number;
  endedAtMs?: number;
  error?: string;
}
