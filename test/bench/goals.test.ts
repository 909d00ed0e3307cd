import { describe, expect, it } from 'vitest';
import { goalMetrics, goals, REFERENCE_PEER } from '../../bench/goals';
import { percentile } from '../../bench/stats';

describe('bench goals', () => {
  it('judges each goal against the peer as a ratio measured in the same run', () => {
    const list = goals({
      ours: { startMs: 600, idleMiB: 60, qos1: 13_000, connects: 200, updateP99: 5, getP99: 7 },
      peer: { name: 'peer', startMs: 1_300, idleMiB: 48, qos1: 8_000, connects: 180, updateP99: 6.9 },
      helpMs: 120,
      pipelineRatio: 0.6,
      pipelineLost: 0,
      loopP99Ms: 40,
      loopTrials: 60,
      largestBundleBytes: 255_000,
    });
    const met = Object.fromEntries(list.map((g) => [g.goal.split(' /')[0], g.met]));
    expect(met).toMatchObject({
      'start to first API answer': true,
      '`zonectl --help`': true,
      'idle memory': false,
      'QoS 1 mTLS throughput, policies enforced': true,
      'connects/s': true,
      'shadow update/get p99': false,
      'largest Lambda bundle': true,
    });
  });

  it('does not count a pipeline that lost readings or a closed loop of too few trials as met', () => {
    const list = goals({
      ours: {},
      peer: REFERENCE_PEER,
      pipelineRatio: 0.9,
      pipelineLost: 3,
      loopP99Ms: 10,
      loopTrials: 20,
    });
    expect(list.find((g) => g.goal.startsWith('pipeline'))?.met).toBe(false);
    expect(list.find((g) => g.goal.startsWith('closed loop'))?.met).toBe(false);
  });

  it('reports only goals that were measured', () => {
    const metrics = goalMetrics(goals({ ours: { startMs: 500 }, peer: REFERENCE_PEER }));
    expect(metrics.map((m) => m.metric)).toEqual([
      `goal: start to first API answer / ${REFERENCE_PEER.name}`,
    ]);
  });
});

describe('percentile', () => {
  it('takes the nearest rank', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile([3, 1, 2], 100)).toBe(3);
    expect(percentile([], 50)).toBeNaN();
  });
});
