/** What a run reports while it runs, and what its caller can ask of it. */
import type { Deployment } from '../../deploy/deploy.js';
import type { Counters, WorkerClock, AgentFailure } from '../model/index.js';

export type RunEvent =
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string }
  | { type: 'bus-ready'; url: string; product: string; version: string; embedded: boolean }
  | { type: 'agents-progress'; started: number; failed: number; total: number }
  | { type: 'agents-ready'; started: number; failed: number; failures: AgentFailure[]; elapsedMs: number }
  | { type: 'phase'; phase: 'warmup' | 'measure' | 'drain' | 'settle' | 'collect' | 'teardown' }
  /** while settling: deliveries still expected at the receivers, and every delivery taken so far (warm-up ones too) */
  | { type: 'settle'; elapsedMs: number; outstanding: number; deliveries: number }
  | { type: 'tick'; elapsedMs: number; measuring: boolean; draining?: boolean; totals: Record<string, Counters> }
  | { type: 'clocks'; clocks: WorkerClock[] }
  | { type: 'generator'; saturated: boolean; reasons: string[] };

export interface RunOptions {
  /** where run directories go; default ./results; null: write nothing */
  resultsRoot?: string | null;
  onEvent?: (event: RunEvent) => void;
  /** unicast clients address these servers (standalone clients against servers elsewhere) */
  serverNames?: string[];
  /** run until this signal aborts (standalone servers), instead of until the load is done */
  untilAborted?: AbortSignal;
  /** the most in-flight messages may take to arrive after the senders are done */
  settleTimeoutMs?: number;
  /** a deployment made by the caller (a limit search, the benches): the run uses it and leaves it up */
  deployment?: Deployment;
  /**
   * Stop early (Ctrl-C, SIGTERM): sending stops, what is in flight settles
   * briefly, and the run returns its result so far marked partial. Before
   * the measured phase it throws InterruptedError instead.
   */
  abort?: AbortSignal;
  /** standalone servers and listeners: retry a lost connection with oslo's backoff instead of ending */
  reconnect?: boolean;
}
