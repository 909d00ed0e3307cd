import { describe, expect, it } from 'vitest';
import { DEFAULT_EDGE_POLICY, EdgePolicy, edgePolicyFor } from '../../device/edge-policy';

const T0 = 1_763_900_000_000;
const S = 10_000;

describe('EdgePolicy', () => {
  it('keeps the first sample and publishes it at once', () => {
    const p = new EdgePolicy();
    expect(p.consider({ temperature: 21 }, T0)).toEqual({ keep: true, urgent: true, reason: 'first' });
  });

  it('skips samples inside the deadband', () => {
    const p = new EdgePolicy();
    p.consider({ temperature: 21, co2: 600 }, T0);
    expect(p.consider({ temperature: 21.1, co2: 630 }, T0 + S).keep).toBe(false);
  });

  it('keeps a sample once a measure moves past its deadband since the last kept reading', () => {
    const p = new EdgePolicy();
    p.consider({ temperature: 21 }, T0);
    p.consider({ temperature: 21.1 }, T0 + S);
    expect(p.consider({ temperature: 21.2 }, T0 + 2 * S)).toEqual({
      keep: true,
      urgent: false,
      reason: 'change',
    });
  });

  it('keeps a heartbeat reading when nothing changed for the heartbeat period', () => {
    const p = new EdgePolicy();
    p.consider({ temperature: 21 }, T0);
    expect(p.consider({ temperature: 21 }, T0 + DEFAULT_EDGE_POLICY.heartbeatMs - 1).keep).toBe(false);
    expect(p.consider({ temperature: 21 }, T0 + DEFAULT_EDGE_POLICY.heartbeatMs).reason).toBe('heartbeat');
  });

  it('publishes at once when CO2 crosses a limit', () => {
    const p = new EdgePolicy(edgePolicyFor({ co2Limit: 900, co2HighLimit: 1300, minTemperature: 17 }));
    p.consider({ co2: 880 }, T0);
    expect(p.consider({ co2: 930 }, T0 + S)).toEqual({ keep: true, urgent: true, reason: 'threshold' });
  });

  it('publishes at once when occupancy changes', () => {
    const p = new EdgePolicy();
    p.consider({ occupancy: 0, light: 300 }, T0);
    expect(p.consider({ occupancy: 1, light: 300 }, T0 + S)).toEqual({
      keep: true,
      urgent: true,
      reason: 'occupancy',
    });
  });

  it('batches readings until the batch is full', () => {
    const p = new EdgePolicy({ ...DEFAULT_EDGE_POLICY, batchSize: 5 });
    expect(p.shouldFlush(4, T0, T0 + S, false)).toBe(false);
    expect(p.shouldFlush(5, T0, T0 + S, false)).toBe(true);
  });

  it('publishes a partial batch once its oldest reading waited the maximum delay', () => {
    const p = new EdgePolicy();
    expect(p.shouldFlush(1, T0, T0 + DEFAULT_EDGE_POLICY.maxBatchDelayMs, false)).toBe(true);
  });

  it('publishes a partial batch at once when a reading is urgent', () => {
    expect(new EdgePolicy().shouldFlush(1, T0, T0, true)).toBe(true);
  });

  it('sends far fewer messages than readings for a slowly drifting sensor', () => {
    const p = new EdgePolicy();
    let kept = 0;
    let messages = 0;
    let waiting = 0;
    let oldest: number | undefined;
    for (let i = 0; i < 1000; i++) {
      const now = T0 + i * S;
      const d = p.consider({ temperature: 21 + Math.sin(i / 50), co2: 600 + (i % 100) }, now);
      if (d.keep) {
        kept++;
        waiting++;
        oldest ??= now;
      }
      if (p.shouldFlush(waiting, oldest, now, d.urgent)) {
        messages++;
        waiting = 0;
        oldest = undefined;
      }
    }
    expect(kept).toBeLessThan(1000);
    expect(messages).toBeLessThan(kept);
    expect(messages).toBeLessThanOrEqual(200);
  });
});

describe('threshold hysteresis', () => {
  it('does not treat noise just across a limit as an urgent crossing', () => {
    const policy = new EdgePolicy(DEFAULT_EDGE_POLICY);
    policy.consider({ co2: 995 }, 0);
    expect(policy.consider({ co2: 1004 }, 10_000)).toMatchObject({ keep: false });
    expect(policy.consider({ co2: 1030 }, 20_000)).toMatchObject({
      keep: true,
      urgent: true,
      reason: 'threshold',
    });
  });
});
