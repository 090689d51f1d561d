/**
 * The control protocol between the main thread and its agent workers: its
 * messages are in src/model/control.ts; this sums what they report.
 */
import type { IncidentTotals } from '../src/model/index.js';

export function addIncidents(into: IncidentTotals, from: IncidentTotals): void {
  into.malformedMessages += from.malformedMessages;
  into.returnedMessages += from.returnedMessages;
  for (const [kind, e] of Object.entries(from.errors)) {
    const known = into.errors[kind];
    if (known) known.count += e.count;
    else into.errors[kind] = { ...e };
  }
}
