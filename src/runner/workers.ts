/**
 * How many worker threads host the agents when the scenario leaves it to
 * busbench (runner.workers: 0). A worker is an event loop; what it competes
 * with for cores decides how many pay off. When the bus runs on this
 * machine (the embedded broker, a router busbench started, or a URL of this
 * machine), the bus needs about as much CPU as the agents do: measured on 2
 * cores with a local RabbitMQ, 16 clients and 4 servers, 2 workers made
 * fewer calls than 1 (see README, "Worker threads"). So half the cores go
 * to the agents then, and every core when the bus is elsewhere.
 */
import { networkInterfaces } from 'node:os';

export interface WorkerChoice {
  workers: number;
  /** why, for the summary and result.json */
  why: string;
}

/** The host of each URL, without brackets. */
function hostsOf(urls: readonly string[]): string[] {
  return urls.map((url) => {
    try {
      return new URL(url).hostname.replace(/^\[|\]$/g, '');
    } catch {
      return '';
    }
  });
}

/** Whether every URL names this machine: loopback, localhost, or one of its interfaces' addresses. */
export function urlsOnThisMachine(urls: readonly string[]): boolean {
  const own = new Set(
    Object.values(networkInterfaces())
      .flat()
      .map((i) => i?.address),
  );
  return urls.length > 0 && hostsOf(urls).every((h) => h === 'localhost' || /^127\./.test(h) || h === '::1' || own.has(h));
}

export function chooseWorkers(cores: number, busOnThisMachine: boolean): WorkerChoice {
  if (!busOnThisMachine) return { workers: Math.max(1, cores), why: `one per core (${cores}): the bus is on other machines` };
  const workers = Math.max(1, Math.floor(cores / 2));
  return { workers, why: `half of ${cores} cores: the bus runs on this machine and needs about as much CPU as the agents` };
}
