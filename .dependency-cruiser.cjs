/**
 * The direction of busbench's layers, checked in `npm test` (npm run lint):
 *   model ← buses ← agents ← orchestration ← CLI
 * model (src/model, src/util, errors, version) imports nothing of busbench;
 * the bus plugins and the measurement and network services (src/buses,
 * src/metrics, src/network, src/scenario, src/results) import only model and
 * each other; the agent runtime (agents/) imports those; deployment
 * (deploy/) and orchestration (src/runner, src/limit, src/campaign, src/bus,
 * src/report) import anything below; only the CLI and the library entry
 * (src/cli.ts, src/index.ts) import orchestration freely. No cycles at all.
 */
const MODEL = '^src/(model|util)/|^src/(errors|version)\\.ts$';
const SERVICES = '^src/(buses|metrics|network|scenario|results)/';
const AGENTS = '^agents/';
const ORCHESTRATION = '^deploy/|^src/(runner|limit|campaign|bus|report)/';
const ENTRY = '^src/(cli|index)\\.ts$';

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'a cycle ties modules together: break it by moving the shared part down a layer', from: {}, to: { circular: true } },
    { name: 'model-imports-nothing', severity: 'error', comment: 'the model is the bottom layer: it imports no other part of busbench', from: { path: MODEL }, to: { path: `${SERVICES}|${AGENTS}|${ORCHESTRATION}|${ENTRY}` } },
    { name: 'services-below-agents', severity: 'error', comment: 'buses, metrics, network, scenario and results must not import the agents, deployment, orchestration or the CLI', from: { path: SERVICES }, to: { path: `${AGENTS}|${ORCHESTRATION}|${ENTRY}` } },
    { name: 'agents-below-orchestration', severity: 'error', comment: 'the agent runtime must not import deployment, orchestration or the CLI', from: { path: AGENTS }, to: { path: `${ORCHESTRATION}|${ENTRY}` } },
    { name: 'orchestration-below-cli', severity: 'error', comment: 'deployment and orchestration must not import the CLI or the library entry', from: { path: ORCHESTRATION }, to: { path: ENTRY } },
  ],
  options: {
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
