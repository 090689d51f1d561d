/** The default number of worker threads: from the machine's cores and where the bus runs. */
import assert from 'node:assert/strict';
import { networkInterfaces } from 'node:os';
import { describe, it } from 'node:test';
import { chooseWorkers, urlsOnThisMachine } from '../src/runner/workers.js';

describe('the default worker count', () => {
  it('leaves half the cores to a bus on this machine, and takes them all when the bus is elsewhere', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 16].map((cores) => chooseWorkers(cores, true).workers),
      [1, 1, 1, 2, 8],
    );
    assert.deepEqual(
      [1, 2, 4].map((cores) => chooseWorkers(cores, false).workers),
      [1, 2, 4],
    );
    assert.match(chooseWorkers(2, true).why, /half of 2 cores: the bus runs on this machine/);
    assert.match(chooseWorkers(8, false).why, /one per core \(8\): the bus is on other machines/);
  });

  it('tells a bus on this machine by its URLs', () => {
    assert.equal(urlsOnThisMachine(['rabbit://guest:guest@127.0.0.1:5672/']), true);
    assert.equal(urlsOnThisMachine(['amqp://localhost:5672/', 'amqp://[::1]:5672/']), true);
    const own = Object.values(networkInterfaces())
      .flat()
      .find((i) => i?.family === 'IPv4' && !i.internal)?.address;
    if (own) assert.equal(urlsOnThisMachine([`rabbit://${own}:5672/`]), true, `${own} is this machine's`);
    assert.equal(urlsOnThisMachine(['rabbit://192.0.2.10:5672/']), false);
    assert.equal(urlsOnThisMachine(['rabbit://127.0.0.1:5672/', 'rabbit://192.0.2.10:5672/']), false, 'one node elsewhere: the bus is not all here');
    assert.equal(urlsOnThisMachine([]), false);
  });
});
