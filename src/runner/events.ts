/** What a run reports while it runs, and what its caller can ask of it. */
import type { Deployment } from '../../deploy/deploy.js';
import type { Counters, WorkerClock, AgentFailure, CutRecord, IntervalSnapshot, RunResult, WatchedProcess, ResourceFigures } from '../model/index.js';

export type RunEvent =
  /** first of all: what live exporters label this run's series with */
  | { type: 'run-started'; id: string; scenario: string; bus: string; startedAt: string }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string }
  | { type: 'bus-ready'; url: string; product: string; version: string; embedded: boolean }
  | { type: 'agents-progress'; started: number; failed: number; total: number }
  | { type: 'agents-ready'; started: number; failed: number; failures: AgentFailure[]; elapsedMs: number }
  | { type: 'phase'; phase: 'warmup' | 'measure' | 'drain' | 'settle' | 'collect' | 'teardown' }
  /** while settling: deliveries still expected at the receivers, and every delivery taken so far (warm-up ones too) */
  | { type: 'settle'; elapsedMs: number; outstanding: number; deliveries: number }
  /**
   * A worker's once-a-second report: `totals` are every worker's latest counters summed (per "role/pattern");
   * during the measured phase `interval` is this worker's last second (counts and encoded histograms) and
   * `second` the second of the measured phase it is filed under in the result's time series.
   */
  | {
      type: 'tick';
      elapsedMs: number;
      measuring: boolean;
      draining?: boolean;
      totals: Record<string, Counters>;
      worker: number;
      second?: number;
      interval?: IntervalSnapshot;
    }
  /** what the load phase will do: warm-up, then a duration or a number of messages (for the time left) */
  | { type: 'load-plan'; warmupMs: number; durationMs?: number; messages?: number }
  /** one resource sample of each watched process (the sampler's tick), t ms into the measured phase */
  | { type: 'resources'; t: number; processes: (WatchedProcess & ResourceFigures)[] }
  /** a scheduled dropout or partition went down or came back */
  | { type: 'disruption'; what: 'down' | 'up'; record: CutRecord }
  | { type: 'clocks'; clocks: WorkerClock[] }
  | { type: 'generator'; saturated: boolean; reasons: string[] }
  /** last of all, once the result is assembled (and written, when results are) */
  | { type: 'run-ended'; result: RunResult };

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
