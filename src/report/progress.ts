/**
 * Progress on the console while a run goes: start-up counts, then one line
 * per second with what was sent and answered. Rewrites one line on a
 * terminal; prints a line every few seconds otherwise (CI logs stay short).
 */
import type { RunEvent } from '../runner/run.js';
import { emptyCounters } from '../metrics/stats.js';

export function progressPrinter(stream: NodeJS.WriteStream = process.stderr): (event: RunEvent) => void {
  const tty = stream.isTTY === true;
  const interval = tty ? 1000 : 5000;
  let lastPrint = 0;
  let lastSent = 0;
  let lastAt = 0;
  let lineOpen = false;
  let lastDeliveries = 0;
  let lastSettleAt = 0;
  let lastReceived = 0;
  const write = (line: string, force = false): void => {
    const now = performance.now();
    if (!force && now - lastPrint < interval) return;
    lastPrint = now;
    if (tty) {
      stream.write(`\r\x1b[K${line}`);
      lineOpen = true;
    } else stream.write(`${line}\n`);
  };
  const endLine = (): void => {
    if (lineOpen) stream.write('\n');
    lineOpen = false;
  };
  return (event) => {
    switch (event.type) {
      case 'log':
        if (event.level !== 'info') {
          endLine();
          stream.write(`${event.level}: ${event.message}\n`);
        }
        break;
      case 'bus-ready':
        endLine();
        stream.write(`bus: ${event.product} ${event.version} at ${event.url}${event.embedded ? ' (embedded, started by busbench)' : ''}\n`);
        break;
      case 'agents-progress':
        write(`starting agents: ${event.started}/${event.total}${event.failed ? `, ${event.failed} failed` : ''}`);
        break;
      case 'agents-ready':
        write(`agents started: ${event.started}${event.failed ? `, ${event.failed} failed` : ''} in ${(event.elapsedMs / 1000).toFixed(2)} s`, true);
        endLine();
        break;
      case 'phase':
        if (event.phase === 'warmup' || event.phase === 'drain') {
          endLine();
          stream.write(`${event.phase === 'warmup' ? 'warming up' : 'sending stopped; waiting for the calls in flight'}…\n`);
        }
        break;
      case 'settle': {
        // Not "0 msg/s": say what is still expected and how fast it arrives.
        const rate = event.elapsedMs > lastSettleAt ? ((event.deliveries - lastDeliveries) / (event.elapsedMs - lastSettleAt)) * 1000 : 0;
        if (lastSettleAt === 0 || performance.now() - lastPrint >= interval) {
          lastDeliveries = event.deliveries;
          lastSettleAt = event.elapsedMs;
        }
        write(
          `[settle ${(event.elapsedMs / 1000).toFixed(0).padStart(3)} s] ${event.outstanding.toLocaleString('en-US')} deliveries still expected at the receivers, arriving at ${rate.toFixed(0)}/s`,
        );
        break;
      }
      case 'tick': {
        let sent = 0;
        let received = 0;
        let senders = false;
        const sum = emptyCounters();
        for (const [key, c] of Object.entries(event.totals)) {
          if (!key.startsWith('client/') && !key.startsWith('notifier/')) {
            received += c.ok;
            continue;
          }
          senders = true;
          sent += c.sent;
          sum.ok += c.ok;
          sum.errors += c.errors;
          sum.timeouts += c.timeouts;
          sum.unsent += c.unsent;
        }
        const now = event.elapsedMs;
        // Servers and listeners alone: what they receive is the progress.
        const count = senders ? sent : received;
        const rate = now > lastAt ? ((count - (senders ? lastSent : lastReceived)) / (now - lastAt)) * 1000 : 0;
        if (performance.now() - lastPrint >= interval) {
          lastSent = sent;
          lastReceived = received;
          lastAt = now;
        }
        const phase = event.draining ? 'draining ' : event.measuring ? 'measuring' : 'warm-up  ';
        write(
          senders
            ? `[${(now / 1000).toFixed(0).padStart(4)} s] ${phase}  sent ${sent.toLocaleString('en-US')}  ok ${sum.ok.toLocaleString('en-US')}` +
                `  errors ${sum.errors}  timeouts ${sum.timeouts}${sum.unsent ? `  not sent ${sum.unsent}` : ''}  ${rate.toFixed(0)} msg/s`
            : `[${(now / 1000).toFixed(0).padStart(4)} s] ${phase}  received ${received.toLocaleString('en-US')}  ${rate.toFixed(0)} msg/s`,
        );
        break;
      }
    }
  };
}
