/**
 * rhea's loggers that nobody enabled are swapped for a no-op once the AMQP
 * 1.0 driver loads; one enabled with DEBUG keeps logging. Each case runs in
 * a child process, because `debug` reads DEBUG when it loads.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const driverModule = fileURLToPath(new URL('../src/buses/amqp1/driver.js', import.meta.url));

/** The name of each rhea logger once the driver is loaded, under the given DEBUG. */
function loggersAfterLoad(debug: string | undefined): Record<string, string> {
  const script = `
    import { createRequire } from 'node:module';
    await import(${JSON.stringify(driverModule)});
    const loggers = createRequire(${JSON.stringify(driverModule)})('rhea/lib/log.js');
    console.log(JSON.stringify(Object.fromEntries(Object.entries(loggers).map(([k, v]) => [k, v.name]))));
  `;
  const env = { ...process.env };
  delete env['DEBUG'];
  if (debug !== undefined) env['DEBUG'] = debug;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { env, encoding: 'utf8' })) as Record<string, string>;
}

describe("rhea's logging", () => {
  it('costs nothing when no logger is enabled', () => {
    const loggers = loggersAfterLoad(undefined);
    assert.ok(Object.keys(loggers).length >= 8, `rhea's loggers: ${JSON.stringify(loggers)}`);
    for (const [name, fn] of Object.entries(loggers)) assert.equal(fn, 'silent', `rhea:${name} should be a no-op`);
  });

  it('still logs what DEBUG enables', () => {
    const loggers = loggersAfterLoad('rhea:frames,rhea:events');
    assert.equal(loggers['frames'], 'debug');
    assert.equal(loggers['events'], 'debug');
    assert.equal(loggers['io'], 'silent');
  });
});
