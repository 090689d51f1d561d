/**
 * busbench as a library: what the CLI uses, and what tests, notebooks and
 * the operational OpenStack benchmark may rely on. Anything not exported
 * here is internal and may change without notice; what is exported changes
 * only with the package's version. Result files follow the JSON schemas in
 * schemas/, generated from the result types below.
 */

// Scenarios: load a file (YAML, every problem reported at once), or resolve one made in code.
export { loadScenario, parseScenario, resolveScenario, ScenarioError } from './scenario/load.js';
export type { FieldOverride, ResolveOptions } from './scenario/load.js';
export { ConfigError, formatProblem } from './config/load.js';
export type { ConfigProblem } from './config/load.js';
export type { Scenario, BusConfig, BusKind, LoadConfig, PayloadSizes, RouterDeployment, Topology } from './model/index.js';

// Running: one run, a limit search, a campaign.
export { runScenario, explainConnectError } from './runner/run.js';
export type { RunEvent, RunOptions } from './runner/run.js';
export { findLimit } from './limit/find-limit.js';
export type { LimitEvent, LimitOptions } from './limit/find-limit.js';
export type { LimitResult, LimitStep } from './model/index.js';
export { parseObjective } from './limit/objective.js';
export type { Objective, Verdict } from './model/index.js';
export { loadCampaign, CampaignError } from './campaign/file.js';
export type { Campaign, CampaignRun } from './campaign/file.js';
export { runCampaign } from './campaign/run-campaign.js';
export type { CampaignEvent, CampaignOptions, CampaignOutcome } from './campaign/run-campaign.js';
export type { CampaignIndex, DoneRecord } from './model/index.js';

// Deploying: hosts from a provider, the network between sites, the bus on the hosts.
export { deploy } from '../deploy/deploy.js';
export type { Deployment, DeployOptions } from '../deploy/deploy.js';
export type { AppliedNetwork, ProvidedHost, Provider } from '../deploy/providers/provider.js';

// Buses: the registry of kinds, their drivers (oslo.messaging's wire), their deployed nodes.
export { BUS_KINDS, BUS_PLUGINS, busPlugin, createDriver } from './buses/registry.js';
export type { BusNode, BusPlacement, BusPlugin, DeployedBus } from './buses/plugin.js';
export type { Delivery, DriverConfig, QueueBacklog } from './model/index.js';
export type { BusHost, HostProcess, HostSpawner } from './buses/host.js';
export type {
  BusConnection,
  BusDriver,
  BusInfo,
  ConnectOptions,
  IncomingNotification,
  IncomingRequest,
  RpcContext,
  RpcTarget,
  Subscription,
} from './buses/driver.js';
export { BusError, NotSentError, RemoteError, RpcTimeoutError } from './buses/driver.js';

// Results: the format of result.json and friends, and its versions.
export { CAMPAIGN_INDEX_SCHEMA_VERSION, DONE_SCHEMA_VERSION, LIMIT_SCHEMA_VERSION, RESULT_SCHEMA_VERSION } from './model/index.js';
export type { ConnectionLoss, GroupResult, RunResult, TimeSeriesGroup, TimeSeriesPoint } from './model/index.js';

// Reading results back, and what the CLI makes of them: reports, comparisons with thresholds, exports.
export { loadInputs, readCampaign, readRunResult, runLabel } from './results/read.js';
export type { LoadedCampaign, LoadedInputs, LoadedRun } from './results/read.js';
export { htmlReport } from './report/html/report.js';
export { extractReport, readEmbedded } from './report/html/embedded.js';
export { markdownReport } from './report/markdown.js';
export { compareInputs, DEFAULT_THRESHOLDS } from './analysis/compare.js';
export type { Comparison, ComparedPair, Verdict as CompareVerdict } from './analysis/compare.js';
export { evaluateRun, parseThresholds, readThresholdsFile } from './analysis/thresholds.js';
export type { Threshold } from './analysis/thresholds.js';
export { resourcesCsv, seriesCsv, summaryCsv } from './results/export.js';
export { histogramLog } from './results/write.js';

// Watching a run live: its state from the run's events, and the exporters (Prometheus, InfluxDB) that follow it.
export { LiveRun } from './live/aggregate.js';
export { startLiveExporters } from './live/exporters.js';
export type { LiveExporters, LiveExportersOptions } from './live/exporters.js';

// Errors and exit codes, as the CLI maps them.
export { BusUnavailableError, EXIT, EXIT_CODE_TABLE, InterruptedError, UsageError } from './errors.js';
export { BUSBENCH_VERSION } from './version.js';
