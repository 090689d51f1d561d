/**
 * The library API is a contract: what package.json's "exports" hands out,
 * by the package's own name, with its type declarations built beside it.
 * Tests elsewhere use it to run scenarios; this one checks its surface.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('the library API', () => {
  it('is importable by the package name, with the entry points the CLI itself uses', async () => {
    const api = (await import('busbench')) as Record<string, unknown>;
    for (const name of [
      'loadScenario',
      'parseScenario',
      'resolveScenario',
      'runScenario',
      'findLimit',
      'runCampaign',
      'loadCampaign',
      'deploy',
      'createDriver',
      'busPlugin',
      'parseObjective',
    ]) {
      assert.equal(typeof api[name], 'function', `busbench exports ${name}`);
    }
    assert.deepEqual(api['BUS_KINDS'], ['rabbitmq', 'amqp1']);
    assert.equal(typeof api['RESULT_SCHEMA_VERSION'], 'number');
    assert.ok((api['EXIT'] as Record<string, number>)['ok'] === 0);
  });

  it('ships type declarations where package.json says', () => {
    const pkg = JSON.parse(readFileSync(`${root}/package.json`, 'utf8')) as { types: string; exports: Record<string, { types: string; default: string }> };
    assert.ok(existsSync(`${root}/${pkg.types}`), `${pkg.types} is built`);
    assert.ok(existsSync(`${root}/${pkg.exports['.']!.types}`));
    assert.ok(existsSync(`${root}/${pkg.exports['.']!.default}`));
    const declarations = readFileSync(`${root}/${pkg.types}`, 'utf8');
    for (const name of ['runScenario', 'RunResult', 'Deployment', 'BusPlugin', 'LimitResult']) assert.match(declarations, new RegExp(`\\b${name}\\b`));
  });

  it("builds package.json's bin as an executable file, so `npx busbench` runs it", () => {
    const pkg = JSON.parse(readFileSync(`${root}/package.json`, 'utf8')) as { bin: Record<string, string> };
    const bin = `${root}/${pkg.bin['busbench']!}`;
    assert.ok(existsSync(bin), `${bin} is built`);
    assert.ok((statSync(bin).mode & 0o111) !== 0, `${bin} is executable`);
    assert.match(readFileSync(bin, 'utf8'), /^#!\/usr\/bin\/env node\n/);
  });

  it('makes a scenario in code and reports its problems as a file would', async () => {
    const { resolveScenario, ScenarioError } = await import('busbench');
    const scenario = resolveScenario({ bus: { kind: 'rabbitmq' }, agents: { servers: 1, clients: 1 } }, '<api test>');
    assert.equal(scenario.bus.kind, 'rabbitmq');
    assert.throws(
      () => resolveScenario({ bus: { kind: 'kafka' } }, '<api test>'),
      (error: unknown) => error instanceof ScenarioError && /bus\.kind/.test(error.message),
    );
  });
});
