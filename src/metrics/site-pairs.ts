/**
 * Where messages went, per host pair: in a run with sites, each worker keeps
 * counts and latency histograms per (pattern, the other host) for the side
 * its agents are on — a caller's calls by the host that answered, a
 * receiver's messages by the host that sent them. The hosts come from stamps
 * busbench's agents put in what they send (see agents/phase.ts HOST_KEY);
 * a message from an oslo peer has none and is still counted, from an
 * unknown host. The coordinator merges the workers' pairs and maps hosts to
 * sites (src/results/site-pairs.ts).
 */
import { encodeHistogram, newRecordingHistogram, recordMs, type Histogram } from './histogram.js';
import { PAIR_LEGS, PATTERNS, type PairLegName, type PairSnapshot, type Role } from '../model/index.js';

const REQUEST = 0;
const ROUND_TRIP = 1;
const REPLY = 2;

interface PairEntry {
  count: number;
  /** by index in PAIR_LEGS */
  legs: (Histogram | undefined)[];
}

export class SitePairRecorder {
  /** per role, per pattern index: the other host (null: unstamped) → its entry */
  private readonly byRole = new Map<Role, (Map<string | null, PairEntry> | undefined)[]>();

  /** `host`: where this worker runs, the stamp its agents put on what they send. */
  constructor(readonly host: string) {}

  private entry(role: Role, pattern: number, other: string | null): PairEntry {
    let patterns = this.byRole.get(role);
    if (!patterns) this.byRole.set(role, (patterns = new Array(PATTERNS.length)));
    const byOther = (patterns[pattern] ??= new Map());
    let entry = byOther.get(other);
    if (!entry) byOther.set(other, (entry = { count: 0, legs: new Array(PAIR_LEGS.length) }));
    return entry;
  }

  private static record(entry: PairEntry, leg: number, ms: number): void {
    recordMs((entry.legs[leg] ??= newRecordingHistogram()), ms);
  }

  /** A measured call a client here had answered by a server on `by` (null: the reply had no stamp). */
  answered(pattern: number, by: string | null, roundTripMs: number, replyMs: number | undefined): void {
    const entry = this.entry('client', pattern, by);
    entry.count++;
    SitePairRecorder.record(entry, ROUND_TRIP, roundTripMs);
    if (replyMs !== undefined) SitePairRecorder.record(entry, REPLY, replyMs);
  }

  /** A measured message a server or listener here received from a sender on `from` (null: no stamp). */
  received(role: 'server' | 'listener', pattern: number, from: string | null, oneWayMs: number | undefined): void {
    const entry = this.entry(role, pattern, from);
    entry.count++;
    if (oneWayMs !== undefined) SitePairRecorder.record(entry, REQUEST, oneWayMs);
  }

  export(): PairSnapshot[] {
    const out: PairSnapshot[] = [];
    for (const [role, patterns] of this.byRole) {
      patterns.forEach((byOther, p) => {
        for (const [other, entry] of byOther ?? []) {
          const legs: Partial<Record<PairLegName, string>> = {};
          entry.legs.forEach((histogram, l) => {
            if (histogram && histogram.totalCount > 0) legs[PAIR_LEGS[l]!] = encodeHistogram(histogram);
          });
          const here = this.host;
          out.push({ role, pattern: PATTERNS[p]!, from: role === 'client' ? here : other, to: role === 'client' ? other : here, count: entry.count, legs });
        }
      });
    }
    return out;
  }
}
