/**
 * The live exporters a command asked for (--prometheus, --influx), behind
 * one handle: attach each run's LiveRun as it starts (a campaign attaches
 * one run after another), close at the end. Without either flag the handle
 * does nothing, so commands call it unconditionally.
 *
 *   const exporters = await startLiveExporters({ ...liveExportersOptions(flags), say });
 *   const live = new LiveRun();
 *   exporters.attach(live);
 *   await runScenario(scenario, { onEvent: live.take });
 *   await exporters.close();
 */
import type { LiveRun } from './aggregate.js';
import { startInfluxWriter, type InfluxStatus, type InfluxTarget } from './influx.js';
import { startPrometheusExporter, type Labels } from './prometheus.js';

export interface LiveExportersOptions {
  /** serve GET /metrics here; host default 0.0.0.0 (every interface), port 0: any free port */
  prometheus?: { host?: string; port: number };
  influx?: InfluxTarget;
  /** labels (Prometheus) and tags (InfluxDB) on every series; runs add run_id, scenario and bus themselves */
  labels?: Labels;
  say: (level: 'info' | 'warn', message: string) => void;
}

export interface LiveExporters {
  /** where Prometheus scrapes, when serving */
  readonly prometheusUrl: string | undefined;
  /** follow this run from now on (the previous one, if still attached, is finished) */
  attach(live: LiveRun): void;
  /** stop following the attached run; Prometheus keeps its final series */
  detach(): void;
  /** InfluxDB: what was written and what failed */
  influxStatus(): InfluxStatus | undefined;
  /** writes what is left, lets Prometheus scrape the last figures (when it scrapes at all), and stops serving */
  close(): Promise<void>;
}

/** Throws UsageError when the Prometheus port cannot be listened on; InfluxDB problems are said, never thrown. */
export async function startLiveExporters(options: LiveExportersOptions): Promise<LiveExporters> {
  const labels = options.labels ?? {};
  const prometheus = options.prometheus ? await startPrometheusExporter({ ...options.prometheus, labels, say: options.say }) : undefined;
  const influx = options.influx ? startInfluxWriter({ target: options.influx, tags: labels, say: options.say }) : undefined;
  return {
    prometheusUrl: prometheus?.url,
    attach(live) {
      prometheus?.attach(live);
      influx?.attach(live);
    },
    detach() {
      prometheus?.detach();
      influx?.detach();
    },
    influxStatus: () => influx?.status(),
    async close() {
      await Promise.all([prometheus?.close(), influx?.close()]);
    },
  };
}
