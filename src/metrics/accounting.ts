/**
 * Per-message accounting. Clients number their measured messages per sender
 * (firstSeq, firstSeq + 1, …); each receiver keeps a bitmap per sender of the
 * sequence numbers it got (one bit per message) and counts repeats and
 * arrivals behind a later one. At the end the coordinator lays every
 * receiver's bitmap over what each sender says it sent: delivered, lost,
 * duplicated, reordered — and for multicast, how many receivers each message
 * reached. Nothing is inferred from totals, so nothing is silently dropped:
 * receipts no sender accounts for are counted as unexpected.
 */
import type { DeliveryAccount, ExportedReceipts, SenderReceipts } from '../model/index.js';

export type ReceiptOutcome = 'new' | 'duplicate';

/**
 * A runaway sequence number would otherwise allocate gigabytes; 2^28
 * messages per sender (32 MiB of bitmap) is far beyond any run, and keeps
 * bit offsets well inside the 32-bit range the shifts below rely on.
 */
const MAX_SPAN_BITS = 2 ** 28;
const INITIAL_BYTES = 64;

interface SenderLog extends SenderReceipts {
  lowest: number;
  highest: number;
}

/** Bitmap bytes for at least `needed` bytes: doubling, so a run of n messages costs O(n) copying in all. */
function grownSize(current: number, needed: number): number {
  return Math.max(needed, Math.min(current * 2, MAX_SPAN_BITS / 8));
}

/** What one receiver got, per sender: one bit per sequence number between the lowest and highest seen. */
export class ReceiptLog {
  private readonly senders = new Map<number, SenderLog>();

  record(sender: number, seq: number): ReceiptOutcome {
    if (!Number.isSafeInteger(seq)) throw new RangeError(`receipt log: sequence number ${seq} of sender ${sender} is not an integer`);
    let log = this.senders.get(sender);
    if (!log) {
      log = { base: seq, bits: new Uint8Array(INITIAL_BYTES), received: 0, duplicates: 0, reordered: 0, lowest: seq, highest: seq };
      this.senders.set(sender, log);
    } else if (seq < log.base || seq - log.base >= log.bits.length * 8) {
      grow(log, seq, sender);
    }
    const offset = seq - log.base;
    const byte = offset >> 3;
    const mask = 1 << (offset & 7);
    if (log.bits[byte]! & mask) {
      log.duplicates++;
      return 'duplicate';
    }
    log.bits[byte]! |= mask;
    log.received++;
    if (seq < log.highest) log.reordered++;
    else log.highest = seq;
    if (seq < log.lowest) log.lowest = seq;
    return 'new';
  }

  /**
   * A snapshot, trimmed to the bytes between the lowest and highest sequence
   * number seen. Copied rather than a view: structured clone would send a
   * view's whole backing buffer, and later receipts must not change it.
   */
  export(): ExportedReceipts {
    const out: ExportedReceipts = {};
    for (const [sender, log] of this.senders) {
      const first = (log.lowest - log.base) >> 3;
      const last = (log.highest - log.base) >> 3;
      out[String(sender)] = {
        base: log.base + first * 8,
        bits: log.bits.slice(first, last + 1),
        received: log.received,
        duplicates: log.duplicates,
        reordered: log.reordered,
      };
    }
    return out;
  }
}

/**
 * Makes room for seq below or above the bitmap. The slack goes on the side
 * that grew, so growth stays geometric either way and the bitmap stays
 * within a small multiple of the span seen.
 */
function grow(log: SenderLog, seq: number, sender: number): void {
  const span = Math.max(seq, log.highest) - Math.min(seq, log.lowest) + 1;
  if (span > MAX_SPAN_BITS) {
    throw new RangeError(`receipt log: sender ${sender} sequence numbers span ${span} (${log.lowest}..${log.highest} and ${seq}), more than ${MAX_SPAN_BITS}`);
  }
  if (seq < log.base) {
    const size = grownSize(log.bits.length, log.bits.length + Math.ceil((log.base - seq) / 8));
    const shift = size - log.bits.length;
    const bits = new Uint8Array(size);
    bits.set(log.bits, shift);
    log.bits = bits;
    log.base -= shift * 8;
  } else {
    const bits = new Uint8Array(grownSize(log.bits.length, ((seq - log.base) >> 3) + 1));
    bits.set(log.bits);
    log.bits = bits;
  }
}

export interface SentRecord {
  sender: number;
  firstSeq: number;
  count: number;
  /** 1 for unicast and anycast; the number of servers for multicast */
  expectedReceivers: number;
}

/** set bits per byte value */
const POPCOUNT = Uint8Array.from({ length: 256 }, (_, v) => {
  let n = 0;
  for (let x = v; x; x &= x - 1) n++;
  return n;
});

/**
 * Calls visit(seq) for every set bit with seq in [from, to), or, without
 * visit, just counts them: whole bytes by table, zero bytes skipped, so a
 * million-message bitmap costs ~125k byte reads.
 */
function scanBits(r: SenderReceipts, from: number, to: number, visit?: (seq: number) => void): number {
  const lo = Math.max(from, r.base);
  const hi = Math.min(to, r.base + r.bits.length * 8);
  let count = 0;
  for (let off = lo - r.base, end = hi - r.base; off < end;) {
    const byte = Math.floor(off / 8);
    const value = r.bits[byte]!;
    const next = Math.min((byte + 1) * 8, end);
    if (value !== 0) {
      if (!visit && off % 8 === 0 && next - off === 8) count += POPCOUNT[value]!;
      else {
        for (let o = off; o < next; o++) {
          if ((value >> (o % 8)) & 1) {
            count++;
            visit?.(r.base + o);
          }
        }
      }
    }
    off = next;
  }
  return count;
}

function checkRecord(s: SentRecord): void {
  const ok =
    Number.isSafeInteger(s.firstSeq) && Number.isSafeInteger(s.count) && s.count >= 0 && Number.isSafeInteger(s.expectedReceivers) && s.expectedReceivers >= 0;
  if (!ok) throw new RangeError(`delivery accounting: bad sent record ${JSON.stringify(s)}`);
}

/**
 * How many of one range's messages reached k distinct receivers, k = 0 …
 * logs.length. One receiver needs only a count of bits; several need a
 * count per message (a byte each, wider only past 255 receivers).
 */
function receiverHistogram(s: SentRecord, logs: SenderReceipts[]): number[] {
  const histogram = new Array<number>(logs.length + 1).fill(0);
  if (logs.length <= 1) {
    const got = logs.length === 1 ? scanBits(logs[0]!, s.firstSeq, s.firstSeq + s.count) : 0;
    histogram[0] = s.count - got;
    if (logs.length === 1) histogram[1] = got;
    return histogram;
  }
  const counts = logs.length < 256 ? new Uint8Array(s.count) : logs.length < 65536 ? new Uint16Array(s.count) : new Uint32Array(s.count);
  const visit = (seq: number): void => {
    counts[seq - s.firstSeq]!++;
  };
  for (const log of logs) scanBits(log, s.firstSeq, s.firstSeq + s.count, visit);
  for (let i = 0; i < counts.length; i++) histogram[counts[i]!]!++;
  return histogram;
}

/** Sorted, overlapping or touching ranges joined: what counts as "inside a sent range". */
function union(ranges: SentRecord[]): [number, number][] {
  const sorted = ranges.filter((s) => s.count > 0).sort((a, b) => a.firstSeq - b.firstSeq);
  const out: [number, number][] = [];
  for (const s of sorted) {
    const last = out[out.length - 1];
    if (last && s.firstSeq <= last[1]) last[1] = Math.max(last[1], s.firstSeq + s.count);
    else out.push([s.firstSeq, s.firstSeq + s.count]);
  }
  return out;
}

/**
 * Lays the receivers' receipts over what the senders sent. A sender may
 * have several records (disjoint ranges); each is accounted on its own.
 */
export function accountDeliveries(sent: SentRecord[], receipts: ExportedReceipts[]): DeliveryAccount {
  const account: DeliveryAccount = {
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
  };
  const bySender = new Map<string, SentRecord[]>();
  for (const s of sent) {
    checkRecord(s);
    account.sent += s.count;
    const key = String(s.sender);
    const list = bySender.get(key);
    if (list) list.push(s);
    else bySender.set(key, [s]);
  }
  const senders = new Set(bySender.keys());
  for (const log of receipts) {
    for (const [key, r] of Object.entries(log)) {
      senders.add(key);
      account.duplicated += r.duplicates;
      account.reordered += r.reordered;
    }
  }
  let multi: number[] | undefined;
  for (const key of senders) {
    const logs: SenderReceipts[] = [];
    for (const log of receipts) {
      const r = log[key];
      if (r) logs.push(r);
    }
    const ranges = bySender.get(key) ?? [];
    for (const s of ranges) {
      const expected = s.expectedReceivers;
      const histogram = receiverHistogram(s, logs);
      for (let k = 0; k < histogram.length; k++) {
        const n = histogram[k]!;
        if (n === 0) continue;
        if (k > 0) account.delivered += n;
        if (k >= expected) account.complete += n;
        account.expectedDeliveries += n * expected;
        account.receivedDeliveries += n * Math.min(k, expected);
        account.lost += n * Math.max(0, expected - k);
        account.duplicated += n * Math.max(0, k - expected);
      }
      if (expected > 1) {
        multi ??= [];
        let reached = histogram.length - 1;
        while (reached > 0 && histogram[reached] === 0) reached--;
        while (multi.length < Math.max(expected, reached) + 1) multi.push(0);
        histogram.forEach((n, k) => (multi![k]! += n));
      }
    }
    // Whatever each receiver holds outside the sender's ranges.
    const inside = union(ranges);
    for (const r of logs) {
      let total = scanBits(r, r.base, r.base + r.bits.length * 8);
      for (const [from, to] of inside) total -= scanBits(r, from, to);
      account.unexpected += total;
    }
  }
  if (multi) account.receiversPerMessage = multi;
  return account;
}

/**
 * Moves up to `held` of an account's missing deliveries from lost to
 * undelivered at stop: the bus still had that many for it when the run
 * stopped. Returns how many of `held` it took.
 */
export function attributeBacklog(account: DeliveryAccount, held: number): number {
  const taken = Math.max(0, Math.min(held, account.lost));
  account.undeliveredAtStop += taken;
  account.lost -= taken;
  return taken;
}
