/**
 * The formats of the files busbench writes, as JSON schemas (draft-07)
 * generated from the TypeScript types the writing code is checked against:
 * schemas/ is the published contract, and test/result-schema.test.ts fails
 * when it and the types drift apart. Run `npm run schemas` after changing
 * one of these types (and bump its version in src/model/results.ts when the
 * change is incompatible), then commit schemas/.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGenerator } from 'ts-json-schema-generator';

/** the repository: this file runs as dist/scripts/schemas.js */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface PublishedSchema {
  /** under schemas/ */
  file: string;
  /** the exported type it is generated from, and the file declaring it */
  type: string;
  source: string;
  /** the files that follow it */
  describes: string;
}

export const PUBLISHED_SCHEMAS: readonly PublishedSchema[] = [
  { file: 'result.schema.json', type: 'RunResult', source: 'src/model/results.ts', describes: "a run's result.json" },
  { file: 'limit.schema.json', type: 'LimitResult', source: 'src/model/limit.ts', describes: "a limit search's limit.json (and `busbench limit --json`)" },
  { file: 'campaign-runs.schema.json', type: 'CampaignIndex', source: 'src/model/campaign.ts', describes: "a campaign's runs.json" },
  { file: 'campaign-done.schema.json', type: 'DoneRecord', source: 'src/model/campaign.ts', describes: "a campaign run's runs/<id>/done.json" },
];

/** Each schema's file name → its text, as schemas/ should hold it. */
export function generateSchemas(root = ROOT): Map<string, string> {
  const sources = [...new Set(PUBLISHED_SCHEMAS.map((s) => s.source.replace(/\.ts$/, '')))];
  // One program over every source file (the generator takes a glob): a program per file would parse the project three times.
  const generator = createGenerator({
    path: join(root, `{${sources.join(',')}}.ts`),
    tsconfig: join(root, 'tsconfig.json'),
    // Descriptions from the types' doc comments; a function in a written type is an error, not a silent comment.
    jsDoc: 'extended',
    functions: 'fail',
    // tsc has checked these files: `npm run schemas` and `npm test` compile before they generate.
    skipTypeCheck: true,
  });
  return new Map(PUBLISHED_SCHEMAS.map((schema) => [schema.file, `${JSON.stringify(generator.createSchema(schema.type), null, 2)}\n`]));
}

async function main(): Promise<void> {
  const directory = join(ROOT, 'schemas');
  await mkdir(directory, { recursive: true });
  for (const [file, text] of generateSchemas()) {
    await writeFile(join(directory, file), text);
    process.stdout.write(`schemas/${file}\n`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
