/**
 * Ports for the listeners busbench starts. A broker in a network namespace
 * binds where this process cannot check, and the namespace's outgoing
 * connections hold ephemeral ports (for a minute, in TIME_WAIT): so ports
 * come from below the ephemeral range, never twice from one process.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { ephemeralPortRange, freePort } from '../src/util/process.js';

describe('free ports', () => {
  it('come from below the ephemeral range, distinct even when asked for at once, and nobody listens on them', async () => {
    const [ephemeralLow, ephemeralHigh] = ephemeralPortRange();
    assert.ok(ephemeralLow > 1024 && ephemeralHigh >= ephemeralLow, `range ${ephemeralLow}–${ephemeralHigh}`);
    const ports = await Promise.all(Array.from({ length: 200 }, () => freePort()));
    assert.equal(new Set(ports).size, ports.length, 'a port was handed out twice');
    for (const port of ports) assert.ok(port >= 1024 && port < ephemeralLow, `port ${port} is inside the ephemeral range ${ephemeralLow}–${ephemeralHigh}`);
    // Each can be listened on, on every address, right away.
    for (const port of ports.slice(0, 20)) {
      await new Promise<void>((resolve, reject) => {
        const server = createServer();
        server.once('error', reject);
        server.listen({ port, host: '0.0.0.0', exclusive: true }, () => server.close(() => resolve()));
      });
    }
  });
});
