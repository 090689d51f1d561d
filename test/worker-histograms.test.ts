/** A worker's agents share one histogram per (role, pattern, leg); merging counts each sample once and each agent by its counters. */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { decodeHistogram } from '../src/metrics/histogram.js';
import { AgentRecorder, mergeRecorders, WorkerHistograms } from '../src/metrics/stats.js';
import { PATTERNS } from '../src/model/index.js';

const ANYCAST = PATTERNS.indexOf('call-anycast');

describe('worker histograms', () => {
  after(() => {
    AgentRecorder.sharing = undefined;
  });

  it('are shared by the agents of a role, and merged once', () => {
    AgentRecorder.sharing = new WorkerHistograms();
    const clients = [new AgentRecorder('client'), new AgentRecorder('client'), new AgentRecorder('client')];
    const server = new AgentRecorder('server');
    assert.equal(clients[0]!.histograms, clients[1]!.histograms, 'one histogram array for the clients');
    assert.notEqual(clients[0]!.histograms, server.histograms, 'servers have their own');
    // Two clients sent and recorded; the third sent nothing of this pattern.
    for (const [i, ms] of [
      [0, 1],
      [0, 2],
      [1, 3],
    ] as const) {
      clients[i]!.countersFor(ANYCAST).ok++;
      clients[i]!.latency(ANYCAST, ms);
      clients[i]!.leg(0, ANYCAST, ms / 2);
    }
    const [group] = mergeRecorders(clients);
    assert.equal(group!.agents, 2, 'agents are counted by their counters, not by the shared histogram');
    assert.equal(group!.counters.ok, 3);
    assert.equal(decodeHistogram(group!.histogram!).totalCount, 3, 'each latency once, though three recorders hold the histogram');
    assert.equal(decodeHistogram(Object.values(group!.legs!)[0]!).totalCount, 3);
  });

  it('are per agent without a worker store, as before', () => {
    AgentRecorder.sharing = undefined;
    const a = new AgentRecorder('client');
    const b = new AgentRecorder('client');
    assert.notEqual(a.histograms, b.histograms);
    a.countersFor(ANYCAST).ok++;
    a.latency(ANYCAST, 1);
    b.countersFor(ANYCAST).ok++;
    b.latency(ANYCAST, 2);
    assert.equal(decodeHistogram(mergeRecorders([a, b])[0]!.histogram!).totalCount, 2);
  });
});
