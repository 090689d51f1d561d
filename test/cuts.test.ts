/** Scheduled outages as data: the windows of dropouts and partitions, and the nft commands of a cut. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cutCommands, cutWindows } from '../src/network/cuts.js';

const HOSTS = [
  { name: 'a-1', site: 'a', address: '10.200.1.1' },
  { name: 'a-2', site: 'a', address: '10.200.1.2' },
  { name: 'b-1', site: 'b', address: '10.200.2.1' },
  { name: 'c-1', site: 'c', address: '10.200.3.1' },
];

describe('link cuts', () => {
  it('plans dropouts every period within the horizon, and partitions against every other site', () => {
    const windows = cutWindows(
      [{ sites: ['a', 'b'], everyMs: 30_000, forMs: 5000, firstMs: 10_000 }],
      [{ atMs: 20_000, forMs: 10_000, isolate: ['c'] }],
      ['a', 'b', 'c'],
      70_000,
    );
    assert.deepEqual(
      windows.map((w) => [w.kind, w.label, w.atMs, w.forMs, w.pairs]),
      [
        ['dropout', 'a↔b', 10_000, 5000, [['a', 'b']]],
        [
          'partition',
          'isolate c',
          20_000,
          10_000,
          [
            ['c', 'a'],
            ['c', 'b'],
          ],
        ],
        ['dropout', 'a↔b', 40_000, 5000, [['a', 'b']]],
      ],
    );
    assert.deepEqual(cutWindows([], [{ atMs: 90_000, forMs: 1000, isolate: ['c'] }], ['a', 'b', 'c'], 60_000), [], 'a partition after the run is not planned');
  });

  it('drops both ways on every host of both sides, in a table of its own, and deletes the table to restore', () => {
    const commands = cutCommands(HOSTS, [['a', 'b']], 'busbench_cut_0');
    assert.deepEqual(
      commands.map((c) => c.host),
      ['a-1', 'a-2', 'b-1'],
      'site c is not touched',
    );
    const a1 = commands[0]!;
    assert.deepEqual(
      a1.apply.map((s) => s.argv),
      [
        ['nft', 'add', 'table', 'inet', 'busbench_cut_0'],
        ['nft', 'add', 'chain', 'inet', 'busbench_cut_0', 'out', '{', 'type', 'filter', 'hook', 'output', 'priority', '0', ';', '}'],
        ['nft', 'add', 'chain', 'inet', 'busbench_cut_0', 'in', '{', 'type', 'filter', 'hook', 'input', 'priority', '0', ';', '}'],
        ['nft', 'add', 'rule', 'inet', 'busbench_cut_0', 'out', 'ip', 'daddr', '{', '10.200.2.1', '}', 'drop'],
        ['nft', 'add', 'rule', 'inet', 'busbench_cut_0', 'in', 'ip', 'saddr', '{', '10.200.2.1', '}', 'drop'],
        ['nft', 'add', 'rule', 'inet', 'busbench_cut_0', 'out', 'ct', 'original', 'ip', 'daddr', '{', '10.200.2.1', '}', 'drop'],
        ['nft', 'add', 'rule', 'inet', 'busbench_cut_0', 'in', 'ct', 'original', 'ip', 'daddr', '{', '10.200.2.1', '}', 'drop'],
      ],
    );
    assert.deepEqual(
      a1.undo.map((s) => s.argv),
      [['nft', 'delete', 'table', 'inet', 'busbench_cut_0']],
    );
    const b1 = commands[2]!;
    assert.deepEqual(b1.apply[3]!.argv, ['nft', 'add', 'rule', 'inet', 'busbench_cut_0', 'out', 'ip', 'daddr', '{', '10.200.1.1, 10.200.1.2', '}', 'drop']);
    assert.throws(() => cutCommands(HOSTS, [['a', 'b']], 'x; rm -rf /'), /nft table/);
  });
});
