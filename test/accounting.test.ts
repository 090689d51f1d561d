/**
 * Per-message delivery accounting: receivers' bitmaps laid over what the
 * senders sent give exact loss, duplicate, reorder and multicast reach counts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReceiptLog, accountDeliveries } from '../src/metrics/accounting.js';
import type { ExportedReceipts } from '../src/model/index.js';

function receive(log: ReceiptLog, sender: number, seqs: Iterable<number>): void {
  for (const seq of seqs) log.record(sender, seq);
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

describe('ReceiptLog', () => {
  it('tells new receipts from duplicates and counts late arrivals', () => {
    const log = new ReceiptLog();
    assert.equal(log.record(1, 10), 'new');
    assert.equal(log.record(1, 12), 'new');
    assert.equal(log.record(1, 11), 'new'); // behind 12: reordered
    assert.equal(log.record(1, 12), 'duplicate');
    assert.equal(log.record(1, 5), 'new'); // below the first one seen: the bitmap grows downwards
    assert.equal(log.record(1, 5), 'duplicate');
    assert.equal(log.record(2, 12), 'new'); // senders are independent
    const r = log.export();
    assert.deepEqual(Object.keys(r).sort(), ['1', '2']);
    assert.deepEqual(
      { received: r['1']!.received, duplicates: r['1']!.duplicates, reordered: r['1']!.reordered },
      { received: 4, duplicates: 2, reordered: 2 },
    );
    assert.equal(r['2']!.received, 1);
  });

  it('grows geometrically over a large span, both ways, and exports only the span seen', () => {
    const log = new ReceiptLog();
    for (let seq = 500_000; seq < 1_000_000; seq++) log.record(7, seq);
    for (let seq = 499_999; seq >= 0; seq--) log.record(7, seq);
    const r = log.export()['7']!;
    assert.equal(r.received, 1_000_000);
    assert.equal(r.reordered, 500_000);
    assert.ok(r.base <= 0 && r.base > -8, `base ${r.base}`);
    assert.ok(r.bits.length <= 1_000_000 / 8 + 2, `bits ${r.bits.length}`);
    const account = accountDeliveries([{ sender: 7, firstSeq: 0, count: 1_000_000, expectedReceivers: 1 }], [log.export()]);
    assert.equal(account.delivered, 1_000_000);
    assert.equal(account.lost, 0);
  });

  it('exports a snapshot that later receipts do not change', () => {
    const log = new ReceiptLog();
    receive(log, 1, range(0, 10));
    const before = log.export();
    receive(log, 1, range(10, 20));
    assert.equal(before['1']!.received, 10);
    assert.equal(accountDeliveries([{ sender: 1, firstSeq: 0, count: 20, expectedReceivers: 1 }], [before]).lost, 10);
  });

  it('refuses a sequence number that is not an integer', () => {
    assert.throws(() => new ReceiptLog().record(1, 1.5), RangeError);
    assert.throws(() => new ReceiptLog().record(1, Number.NaN), RangeError);
  });

  it('refuses a runaway sequence number instead of allocating gigabytes', () => {
    const log = new ReceiptLog();
    log.record(1, 0);
    assert.throws(() => log.record(1, 2 ** 40), RangeError);
    assert.equal(log.record(1, 1), 'new'); // still usable
  });
});

describe('accountDeliveries', () => {
  it('counts in-order receipt as all delivered', () => {
    const log = new ReceiptLog();
    receive(log, 1, range(100, 1100));
    const account = accountDeliveries([{ sender: 1, firstSeq: 100, count: 1000, expectedReceivers: 1 }], [log.export()]);
    assert.deepEqual(account, {
      sent: 1000,
      delivered: 1000,
      expectedDeliveries: 1000,
      receivedDeliveries: 1000,
      undeliveredAtStop: 0,
      lost: 0,
      backlogReported: false,
      duplicated: 0,
      reordered: 0,
      unexpected: 0,
      complete: 1000,
    });
  });

  it('counts every tenth message lost exactly', () => {
    const log = new ReceiptLog();
    receive(
      log,
      3,
      range(0, 10_000).filter((seq) => seq % 10 !== 9),
    );
    const account = accountDeliveries([{ sender: 3, firstSeq: 0, count: 10_000, expectedReceivers: 1 }], [log.export()]);
    assert.equal(account.lost, 1000);
    assert.equal(account.delivered, 9000);
    assert.equal(account.complete, 9000);
    assert.equal(account.receiversPerMessage, undefined);
  });

  it('counts a message lost only if no receiver of an anycast got it', () => {
    const a = new ReceiptLog();
    const b = new ReceiptLog();
    receive(
      a,
      1,
      range(0, 100).filter((seq) => seq % 2 === 0),
    );
    receive(
      b,
      1,
      range(0, 100).filter((seq) => seq % 2 === 1 && seq !== 51),
    );
    const account = accountDeliveries([{ sender: 1, firstSeq: 0, count: 100, expectedReceivers: 1 }], [a.export(), b.export()]);
    assert.equal(account.lost, 1);
    assert.equal(account.delivered, 99);
    assert.equal(account.duplicated, 0);
  });

  it('counts duplicates at the same receiver and across receivers', () => {
    const a = new ReceiptLog();
    const b = new ReceiptLog();
    receive(a, 1, range(0, 50));
    receive(a, 1, [3, 3, 4]); // three repeats at the same receiver
    receive(b, 1, [10, 11]); // two messages a second anycast receiver also got
    const account = accountDeliveries([{ sender: 1, firstSeq: 0, count: 50, expectedReceivers: 1 }], [a.export(), b.export()]);
    assert.equal(account.duplicated, 5);
    assert.equal(account.delivered, 50);
    assert.equal(account.lost, 0);
    assert.equal(account.complete, 50);
  });

  it('sums reordering over receivers', () => {
    const a = new ReceiptLog();
    const b = new ReceiptLog();
    receive(a, 1, [0, 2, 1, 3, 5, 4]); // 1 and 4 arrive late
    receive(b, 2, [9, 8, 7]); // 8 and 7 arrive late
    const account = accountDeliveries(
      [
        { sender: 1, firstSeq: 0, count: 6, expectedReceivers: 1 },
        { sender: 2, firstSeq: 7, count: 3, expectedReceivers: 1 },
      ],
      [a.export(), b.export()],
    );
    assert.equal(account.reordered, 4);
    assert.equal(account.lost, 0);
    assert.equal(account.sent, 9);
  });

  it('counts multicast copies per receiver: one receiver missing five', () => {
    const n = 1000;
    const logs = [new ReceiptLog(), new ReceiptLog(), new ReceiptLog()];
    const missed = new Set([0, 17, 500, 998, 999]);
    receive(logs[0]!, 4, range(0, n));
    receive(logs[1]!, 4, range(0, n));
    receive(
      logs[2]!,
      4,
      range(0, n).filter((seq) => !missed.has(seq)),
    );
    const account = accountDeliveries(
      [{ sender: 4, firstSeq: 0, count: n, expectedReceivers: 3 }],
      logs.map((l) => l.export()),
    );
    assert.equal(account.lost, 5);
    assert.equal(account.delivered, n);
    assert.equal(account.complete, n - 5);
    assert.equal(account.duplicated, 0);
    assert.deepEqual(account.receiversPerMessage, [0, 0, 5, n - 5]);
  });

  it('counts multicast copies beyond the expected receivers as duplicates and widens the histogram', () => {
    const logs = [new ReceiptLog(), new ReceiptLog(), new ReceiptLog()];
    for (const log of logs) receive(log, 1, range(0, 10));
    const account = accountDeliveries(
      [{ sender: 1, firstSeq: 0, count: 10, expectedReceivers: 2 }],
      logs.map((l) => l.export()),
    );
    assert.equal(account.duplicated, 10);
    assert.equal(account.complete, 10);
    assert.deepEqual(account.receiversPerMessage, [0, 0, 0, 10]);
  });

  it('counts receipts outside every sent range as unexpected, not dropped', () => {
    const log = new ReceiptLog();
    receive(log, 1, range(0, 20)); // 0..9 are warm-up leftovers
    receive(log, 9, [1, 2, 3]); // a sender that reported nothing
    const account = accountDeliveries([{ sender: 1, firstSeq: 10, count: 10, expectedReceivers: 1 }], [log.export()]);
    assert.equal(account.unexpected, 13);
    assert.equal(account.delivered, 10);
    assert.equal(account.lost, 0);
  });

  it('accounts a sender with zero sent', () => {
    const log = new ReceiptLog();
    receive(log, 2, range(0, 5));
    const account = accountDeliveries(
      [
        { sender: 1, firstSeq: 0, count: 0, expectedReceivers: 1 },
        { sender: 2, firstSeq: 0, count: 5, expectedReceivers: 1 },
      ],
      [log.export()],
    );
    assert.deepEqual(account, {
      sent: 5,
      delivered: 5,
      expectedDeliveries: 5,
      receivedDeliveries: 5,
      undeliveredAtStop: 0,
      lost: 0,
      backlogReported: false,
      duplicated: 0,
      reordered: 0,
      unexpected: 0,
      complete: 5,
    });
    const idle = accountDeliveries([{ sender: 1, firstSeq: 0, count: 0, expectedReceivers: 3 }], []);
    assert.deepEqual(idle, {
      sent: 0,
      delivered: 0,
      expectedDeliveries: 0,
      receivedDeliveries: 0,
      undeliveredAtStop: 0,
      lost: 0,
      backlogReported: false,
      duplicated: 0,
      reordered: 0,
      unexpected: 0,
      complete: 0,
      receiversPerMessage: [0, 0, 0, 0],
    });
  });

  it('counts everything lost when no receiver reported', () => {
    const account = accountDeliveries([{ sender: 1, firstSeq: 0, count: 7, expectedReceivers: 2 }], []);
    assert.equal(account.lost, 14);
    assert.equal(account.delivered, 0);
    assert.deepEqual(account.receiversPerMessage, [7, 0, 0]);
  });

  it('accounts several ranges of one sender separately', () => {
    const log = new ReceiptLog();
    receive(log, 1, [...range(0, 10), ...range(20, 25), 15]);
    const account = accountDeliveries(
      [
        { sender: 1, firstSeq: 0, count: 10, expectedReceivers: 1 },
        { sender: 1, firstSeq: 20, count: 10, expectedReceivers: 1 },
      ],
      [log.export()],
    );
    assert.equal(account.sent, 20);
    assert.equal(account.lost, 5);
    assert.equal(account.unexpected, 1);
  });

  it('survives structured clone of the export', () => {
    const a = new ReceiptLog();
    const b = new ReceiptLog();
    receive(
      a,
      1,
      range(0, 300).filter((seq) => seq % 7 !== 0),
    );
    receive(a, 1, [8, 9]);
    receive(b, 1, [3, 2, 1]);
    const sent = [{ sender: 1, firstSeq: 0, count: 300, expectedReceivers: 2 }];
    const direct = accountDeliveries(sent, [a.export(), b.export()]);
    const cloned: ExportedReceipts[] = structuredClone([a.export(), b.export()]);
    assert.ok(cloned[0]!['1']!.bits instanceof Uint8Array);
    assert.deepEqual(accountDeliveries(sent, cloned), direct);
    assert.equal(direct.duplicated, 2);
    assert.equal(direct.reordered, 2);
    assert.equal(direct.lost, 300 * 2 - (300 - 43) - 3);
  });

  it('refuses a malformed sent record', () => {
    assert.throws(() => accountDeliveries([{ sender: 1, firstSeq: 0, count: -1, expectedReceivers: 1 }], []), RangeError);
    assert.throws(() => accountDeliveries([{ sender: 1, firstSeq: 0.5, count: 1, expectedReceivers: 1 }], []), RangeError);
  });

  it('accounts a million messages to three receivers', () => {
    const n = 1_000_000;
    const logs = [new ReceiptLog(), new ReceiptLog(), new ReceiptLog()];
    logs.forEach((log, i) => {
      for (let seq = 0; seq < n; seq++) if (seq % 1000 !== i) log.record(1, seq);
    });
    const exported = logs.map((l) => l.export());
    const account = accountDeliveries([{ sender: 1, firstSeq: 0, count: n, expectedReceivers: 3 }], exported);
    assert.equal(account.lost, 3000);
    assert.equal(account.complete, n - 3000);
  });
});
