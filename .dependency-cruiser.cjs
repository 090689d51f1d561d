/**
 * The direction of busbench's layers, checked in `npm test` (npm run lint):
 *   model ← buses ← agents ← orchestration ← CLI
 * model (src/model, src/util, errors, version, cleanup) imports nothing of
 * busbench; the bus plugins, the configuration loader and the measurement
 * and network services (src/buses, src/config, src/metrics, src/network,
 * src/scenario, src/results, src/analysis) import only model and each other; the agent
 * runtime (agents/) imports those; deployment (deploy/) and orchestration
 * (src/runner, src/limit, src/campaign, src/bus, src/report, src/live) import anything
 * below; the process entry points (src/entries, the CLI's parts in src/cli), the library entry
 * (src/index.ts) and scripts/ sit on top. Every file is in a layer, and no
 * cycles at all.
 */
const MODEL = '^src/(model|util)/|^src/(errors|version|cleanup)\\.ts$';
const SERVICES = '^src/(buses|config|metrics|network|scenario|results|analysis)/';
const AGENTS = '^agents/';
const ORCHESTRATION = '^deploy/|^src/(runner|limit|campaign|bus|report|live)/';
const ENTRY = '^src/(entries|cli)/|^src/index\\.ts$|^scripts/';

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'a cycle ties modules together: break it by moving the shared part down a layer',
      from: {},
      to: { circular: true },
    },
    {
      name: 'model-imports-nothing',
      severity: 'error',
      comment: 'the model is the bottom layer: it imports no other part of busbench',
      from: { path: MODEL },
      to: { path: `${SERVICES}|${AGENTS}|${ORCHESTRATION}|${ENTRY}` },
    },
    {
      name: 'services-below-agents',
      severity: 'error',
      comment: 'buses, metrics, network, scenario and results must not import the agents, deployment, orchestration or the CLI',
      from: { path: SERVICES },
      to: { path: `${AGENTS}|${ORCHESTRATION}|${ENTRY}` },
    },
    {
      name: 'agents-below-orchestration',
      severity: 'error',
      comment: 'the agent runtime must not import deployment, orchestration or the CLI',
      from: { path: AGENTS },
      to: { path: `${ORCHESTRATION}|${ENTRY}` },
    },
    {
      name: 'in-a-layer',
      severity: 'error',
      comment: 'every module belongs to a layer: add its folder to one in .dependency-cruiser.cjs',
      from: { path: '^(src|agents|deploy|scripts)/', pathNot: `${MODEL}|${SERVICES}|${AGENTS}|${ORCHESTRATION}|${ENTRY}` },
      to: {},
    },
    {
      name: 'orchestration-below-cli',
      severity: 'error',
      comment: 'deployment and orchestration must not import the CLI or the library entry',
      from: { path: ORCHESTRATION },
      to: { path: ENTRY },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
