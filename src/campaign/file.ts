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
 *   repeat: 3                                # each point 3 times: the run-to-run noise `compare` weighs
 *
 * Every run's scenario is validated before the first run starts, so a bad
 * value deep in the grid does not stop the campaign at 3 a.m.
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname, extname, resolve as resolvePath } from 'node:path';
import type { FromSchema } from 'json-schema-to-ts';
import { parseDocument } from 'yaml';
import { ConfigError, defineConfig, unreadable, type AddProblem, type ConfigProblem } from '../config/load.js';
import { parseDuration } from '../scenario/duration.js';
import { parseScenario, resolveScenario, ScenarioError } from '../scenario/load.js';
import { NAME } from '../scenario/schema.js';
import type { Scenario } from '../model/index.js';
import { describeParameters, expandGrid, gridPoint, setField, type PlannedRun } from './grid.js';

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

/** A swept field: dotted, as in a scenario file. */
const FIELD = {
  pattern: '^[a-z_]+(\\.[a-z_]+)+$',
  message: '{got} is not a scenario field: write it dotted as in a scenario file, e.g. agents.clients or load.payload_bytes',
} as const;
const SWEEP = { type: 'object', propertyNames: FIELD, additionalProperties: { type: 'array', minItems: 1 } } as const;

export const campaignSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  required: ['scenario'],
  message: 'a campaign file is a mapping with at least "scenario: <scenario file>" and a grid, got {got}; see busbench campaign --help',
  properties: {
    name: NAME,
    scenario: { type: 'string', minLength: 1 },
    budget: { anyOf: [{ type: 'number', exclusiveMinimum: 0 }, { type: 'string' }], description: 'a duration: "30m", "14h", or a number of seconds' },
    grid: SWEEP,
    zip: SWEEP,
    exclude: { type: 'array', items: { type: 'object', propertyNames: FIELD } },
    repeat: {
      type: 'integer',
      minimum: 1,
      message: 'repeat is how many times each grid point runs: a whole number >= 1, got {got}',
      description: 'runs of each grid point (default 1): repeats measure the run-to-run noise that busbench compare weighs differences against',
    },
  },
} as const;

/** A campaign file once validated. */
export type RawCampaign = FromSchema<typeof campaignSchema>;

export class CampaignError extends ConfigError {
  override readonly name = 'CampaignError';
}

const campaigns = defineConfig(campaignSchema, {
  error: CampaignError,
  unreadable: (error) => unreadable(error, 'campaign file', 'campaigns/clients-sweep.yaml'),
});

/** The rules between a campaign's fields: zipped lists as long as each other, a field swept once, exclusions of swept fields, a budget that is a duration. */
function sweepProblems(raw: RawCampaign, add: AddProblem): void {
  const zipLengths = Object.entries(raw.zip ?? {}).map(([field, values]) => `${field} (${values.length})`);
  if (new Set(Object.values(raw.zip ?? {}).map((v) => v.length)).size > 1) {
    add(['zip'], `zipped lists advance together and must be equally long: ${zipLengths.join(', ')}`);
  }
  const swept = new Set([...Object.keys(raw.grid ?? {}), ...Object.keys(raw.zip ?? {})]);
  for (const field of Object.keys(raw.grid ?? {})) {
    if (raw.zip && field in raw.zip) add(['zip', field], `${field} is in grid already; sweep it in one of them`);
  }
  (raw.exclude ?? []).forEach((exclusion, i) => {
    for (const field of Object.keys(exclusion)) {
      if (!swept.has(field)) add(['exclude', i, field], `${field} is not swept by grid or zip, so it excludes nothing`);
    }
  });
  if (raw.budget !== undefined) {
    try {
      parseDuration(raw.budget);
    } catch (error) {
      add(['budget'], (error as Error).message);
    }
  }
}

export async function loadCampaign(file: string): Promise<Campaign> {
  const { data: raw, at } = await campaigns.read(file, { check: sweepProblems });
  const problems: ConfigProblem[] = [];
  const budgetMs = raw.budget !== undefined ? parseDuration(raw.budget) : undefined;

  const scenarioFile = resolvePath(dirname(file), raw.scenario);
  let scenarioText: string;
  try {
    scenarioText = await readFile(scenarioFile, 'utf8');
  } catch {
    throw new CampaignError(file, [
      { file, ...at(['scenario']), path: 'scenario', message: `no scenario file at ${scenarioFile} (the path is relative to the campaign file)` },
    ]);
  }
  // The base must be valid on its own: its errors then point into its own file.
  const base = parseScenario(scenarioText, scenarioFile);
  const baseRaw = parseDocument(scenarioText).toJS() as Record<string, unknown>;
  const name = raw.name ?? basename(file, extname(file)).replace(/[^A-Za-z0-9_.-]/g, '_');
  const runs: CampaignRun[] = [];
  for (const planned of expandGrid({
    ...(raw.grid ? { grid: raw.grid } : {}),
    ...(raw.zip ? { zip: raw.zip } : {}),
    ...(raw.exclude ? { exclude: raw.exclude } : {}),
    ...(raw.repeat !== undefined ? { repeat: raw.repeat } : {}),
  })) {
    const scenarioRaw = structuredClone(baseRaw);
    try {
      for (const [field, value] of Object.entries(gridPoint(planned.parameters))) setField(scenarioRaw, field, value);
      scenarioRaw['name'] = `${base.name}-${planned.id}`;
      runs.push({ ...planned, scenario: resolveScenario(scenarioRaw, `${file} run ${planned.id}`) });
    } catch (error) {
      const detail = error instanceof ScenarioError ? error.problems.map((p) => `${p.path}: ${p.message}`).join('; ') : (error as Error).message;
      problems.push({
        file,
        ...at([raw.grid ? 'grid' : 'zip']),
        path: `run ${planned.index + 1} (${describeParameters(planned.parameters)})`,
        message: detail,
      });
    }
  }
  if (problems.length > 0) throw new CampaignError(file, problems);
  if (runs.length === 0) throw new CampaignError(file, [{ file, path: 'exclude', message: 'every run is excluded: nothing to do' }]);
  return { name, file, scenarioFile, ...(budgetMs !== undefined ? { budgetMs } : {}), runs };
}
