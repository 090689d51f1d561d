/**
 * Campaign files: a base scenario and the grid swept over it.
 *
 *   name: seed-grid
 *   scenario: ../scenarios/quickstart.yaml   # relative to this file
 *   budget: 14h                              # stop between runs when the next would not fit
 *   grid:                                    # cartesian product
 *     agents.clients: [10, 50, 100]
 *     load.patterns: [[call/anycast], [cast/multicast]]
 *   zip:                                     # advanced together, one value of each per run
 *     agents.servers: [2, 4]
 *     agents.topic: [small, large]
 *   exclude:
 *     - {agents.clients: 100, load.patterns: [cast/multicast]}
 *
 * Every run's scenario is validated before the first run starts, so a bad
 * value deep in the grid does not stop the campaign at 3 a.m.
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname, extname, resolve as resolvePath } from 'node:path';
import { Ajv } from 'ajv';
import { parseDocument, LineCounter } from 'yaml';
import { parseDuration } from '../scenario/duration.js';
import { unreadable, type ConfigProblem } from '../config/load.js';
import { parseScenario, resolveScenario, ScenarioError } from '../scenario/load.js';
import type { Scenario } from '../scenario/types.js';
import { describeParameters, expandGrid, setField, type PlannedRun } from './grid.js';

export interface CampaignRun extends PlannedRun {
  scenario: Scenario;
}

export interface Campaign {
  name: string;
  file: string;
  scenarioFile: string;
  budgetMs?: number;
  runs: CampaignRun[];
}

const FIELD = '^[a-z_]+(\\.[a-z_]+)+$';

const campaignSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['scenario'],
  properties: {
    name: { type: 'string', pattern: '^[A-Za-z0-9_.-]+$' },
    scenario: { type: 'string', minLength: 1 },
    budget: { anyOf: [{ type: 'number', exclusiveMinimum: 0 }, { type: 'string' }] },
    grid: { type: 'object', propertyNames: { pattern: FIELD }, additionalProperties: { type: 'array', minItems: 1 } },
    zip: { type: 'object', propertyNames: { pattern: FIELD }, additionalProperties: { type: 'array', minItems: 1 } },
    exclude: { type: 'array', items: { type: 'object', propertyNames: { pattern: FIELD } } },
  },
} as const;

const validate = new Ajv({ allErrors: true, strict: false }).compile(campaignSchema);

interface RawCampaign {
  name?: string;
  scenario: string;
  budget?: number | string;
  grid?: Record<string, unknown[]>;
  zip?: Record<string, unknown[]>;
  exclude?: Record<string, unknown>[];
}

export class CampaignError extends ScenarioError {}

export async function loadCampaign(file: string): Promise<Campaign> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new CampaignError(file, [{ file, path: '', message: unreadable(error, 'campaign file', 'campaigns/clients-sweep.yaml') }]);
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const at = (path: (string | number)[]): { line?: number; column?: number } => {
    const node = doc.getIn(path, true) as { range?: [number, number] } | undefined;
    if (!node?.range) return {};
    const { line, col } = lines.linePos(node.range[0]);
    return { line, column: col };
  };
  if (doc.errors.length > 0) throw new CampaignError(file, doc.errors.map((e) => ({ file, path: '', message: `YAML: ${e.message.split('\n')[0]}` })));
  const raw = doc.toJS() as RawCampaign;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new CampaignError(file, [{ file, path: '', message: `a campaign file is a mapping with at least "scenario: <scenario file>" and a grid, got ${raw === null || raw === undefined ? 'an empty file' : Array.isArray(raw) ? 'a list' : JSON.stringify(raw)}; see busbench campaign --help` }]);
  }
  if (!validate(raw)) {
    throw new CampaignError(
      file,
      (validate.errors ?? []).map((e) => {
        const path = e.instancePath.split('/').slice(1);
        const message =
          e.keyword === 'pattern' && e.propertyName
            ? `"${e.propertyName}" is not a scenario field: write it dotted as in a scenario file, e.g. agents.clients or load.payload_bytes`
            : e.keyword === 'additionalProperties'
              ? `unknown field "${String(e.params['additionalProperty'])}" (allowed: name, scenario, budget, grid, zip, exclude)`
              : `${e.message ?? 'is not valid'}`;
        return { file, ...at(path), path: path.join('.'), message };
      }),
    );
  }
  const problems: ConfigProblem[] = [];
  const zipLengths = Object.entries(raw.zip ?? {}).map(([field, values]) => `${field} (${values.length})`);
  if (new Set(Object.values(raw.zip ?? {}).map((v) => v.length)).size > 1) {
    problems.push({ file, ...at(['zip']), path: 'zip', message: `zipped lists advance together and must be equally long: ${zipLengths.join(', ')}` });
  }
  const swept = new Set([...Object.keys(raw.grid ?? {}), ...Object.keys(raw.zip ?? {})]);
  for (const field of Object.keys(raw.grid ?? {})) {
    if (raw.zip && field in raw.zip) problems.push({ file, ...at(['zip', field]), path: `zip.${field}`, message: `${field} is in grid already; sweep it in one of them` });
  }
  (raw.exclude ?? []).forEach((exclusion, i) => {
    for (const field of Object.keys(exclusion)) {
      if (!swept.has(field)) problems.push({ file, ...at(['exclude', i, field]), path: `exclude[${i}].${field}`, message: `${field} is not swept by grid or zip, so it excludes nothing` });
    }
  });
  let budgetMs: number | undefined;
  if (raw.budget !== undefined) {
    try {
      budgetMs = parseDuration(raw.budget);
    } catch (error) {
      problems.push({ file, ...at(['budget']), path: 'budget', message: (error as Error).message });
    }
  }
  if (problems.length > 0) throw new CampaignError(file, problems);

  const scenarioFile = resolvePath(dirname(file), raw.scenario);
  let scenarioText: string;
  try {
    scenarioText = await readFile(scenarioFile, 'utf8');
  } catch {
    throw new CampaignError(file, [{ file, ...at(['scenario']), path: 'scenario', message: `no scenario file at ${scenarioFile} (the path is relative to the campaign file)` }]);
  }
  // The base must be valid on its own: its errors then point into its own file.
  const base = parseScenario(scenarioText, scenarioFile);
  const baseRaw = parseDocument(scenarioText).toJS() as Record<string, unknown>;
  const name = raw.name ?? basename(file, extname(file)).replace(/[^A-Za-z0-9_.-]/g, '_');
  const runs: CampaignRun[] = [];
  for (const planned of expandGrid({ ...(raw.grid ? { grid: raw.grid } : {}), ...(raw.zip ? { zip: raw.zip } : {}), ...(raw.exclude ? { exclude: raw.exclude } : {}) })) {
    const scenarioRaw = structuredClone(baseRaw);
    try {
      for (const [field, value] of Object.entries(planned.parameters)) setField(scenarioRaw, field, value);
      scenarioRaw['name'] = `${base.name}-${planned.id}`;
      runs.push({ ...planned, scenario: resolveScenario(scenarioRaw, `${file} run ${planned.id}`) });
    } catch (error) {
      const detail = error instanceof ScenarioError ? error.problems.map((p) => `${p.path}: ${p.message}`).join('; ') : (error as Error).message;
      problems.push({ file, ...at(['grid']), path: `run ${planned.index + 1} (${describeParameters(planned.parameters)})`, message: detail });
    }
  }
  if (problems.length > 0) throw new CampaignError(file, problems);
  if (runs.length === 0) throw new CampaignError(file, [{ file, path: 'exclude', message: 'every run is excluded: nothing to do' }]);
  return { name, file, scenarioFile, ...(budgetMs !== undefined ? { budgetMs } : {}), runs };
}
