/**
 * The edge policy: which samples become readings and when readings go out. AWS IoT bills per
 * message (in 5 KB steps), so the agent samples often, keeps a sample only when it says
 * something new, and batches kept readings into few messages, while anything the zone
 * controller must act on now goes out at once.
 *
 * Defaults (DEFAULT_EDGE_POLICY): sample every 10 s; keep a sample when a measure moved past
 * its deadband since the last kept reading (temperature 0.2 degC, humidity 2 %RH, CO2 50 ppm,
 * light 50 lux, occupancy any change), or when 5 minutes passed without one (heartbeat);
 * publish when 10 readings wait or the oldest has waited 60 s, and at once when CO2 crosses a
 * limit, temperature crosses a safety limit or occupancy changes.
 */
import { SENSOR_KINDS, type SensorKind } from '../contracts';
import type { SensorValues } from './drivers';

export interface EdgePolicyOptions {
  /** How often sensors are read, ms. */
  readonly sampleIntervalMs: number;
  /** A reading is kept at least this often even when nothing changed, ms. */
  readonly heartbeatMs: number;
  /** Most readings per message (at most MAX_READINGS_PER_MESSAGE). */
  readonly batchSize: number;
  /** Longest a kept reading waits for its batch, ms. */
  readonly maxBatchDelayMs: number;
  /** Smallest change per measure that counts as new; 0 means any change. */
  readonly deadband: Readonly<Record<SensorKind, number>>;
  /** Crossing one of these, in either direction, publishes at once. */
  readonly thresholds: Readonly<Partial<Record<SensorKind, readonly number[]>>>;
  /** Any change of these measures publishes at once. */
  readonly immediateOnChange: readonly SensorKind[];
}

export const DEFAULT_EDGE_POLICY: EdgePolicyOptions = {
  sampleIntervalMs: 10_000,
  heartbeatMs: 300_000,
  batchSize: 10,
  maxBatchDelayMs: 60_000,
  deadband: { temperature: 0.2, humidity: 2, occupancy: 0, co2: 50, light: 50 },
  thresholds: { co2: [1000] },
  immediateOnChange: ['occupancy'],
};

export type KeepReason = 'first' | 'change' | 'heartbeat' | 'threshold' | 'occupancy' | 'none';

export interface Decision {
  /** Store this sample as a reading. */
  readonly keep: boolean;
  /** Publish what waits now rather than waiting for the batch. */
  readonly urgent: boolean;
  readonly reason: KeepReason;
}

export class EdgePolicy {
  private lastKept: SensorValues = {};
  private lastKeptAt: number | undefined;

  constructor(readonly options: EdgePolicyOptions = DEFAULT_EDGE_POLICY) {
    if (options.batchSize < 1) throw new RangeError(`batchSize must be at least 1, got ${options.batchSize}`);
  }

  /** Decides what to do with one sample taken at `now`, and remembers it if kept. */
  consider(values: SensorValues, now: number): Decision {
    const decision = this.decide(values, now);
    if (decision.keep) {
      this.lastKept = { ...this.lastKept, ...values };
      this.lastKeptAt = now;
    }
    return decision;
  }

  private decide(values: SensorValues, now: number): Decision {
    const kinds = SENSOR_KINDS.filter((k) => values[k] !== undefined);
    if (kinds.length === 0) return { keep: false, urgent: false, reason: 'none' };
    if (this.lastKeptAt === undefined) return { keep: true, urgent: true, reason: 'first' };
    for (const kind of kinds) {
      const before = this.lastKept[kind];
      const after = values[kind] as number;
      if (before === undefined) return { keep: true, urgent: false, reason: 'change' };
      if (this.options.immediateOnChange.includes(kind) && before !== after) {
        return { keep: true, urgent: true, reason: 'occupancy' };
      }
      // A crossing counts once the value is half a deadband past the limit, so sensor noise
      // around a limit does not send a burst of urgent messages.
      const margin = this.options.deadband[kind] / 2;
      for (const limit of this.options.thresholds[kind] ?? []) {
        if (before <= limit !== after <= limit && Math.abs(after - limit) >= margin) {
          return { keep: true, urgent: true, reason: 'threshold' };
        }
      }
    }
    for (const kind of kinds) {
      const before = this.lastKept[kind] as number;
      const moved = Math.abs((values[kind] as number) - before);
      const band = this.options.deadband[kind];
      if (band === 0 ? moved > 0 : moved >= band - 1e-9)
        return { keep: true, urgent: false, reason: 'change' };
    }
    if (now - this.lastKeptAt >= this.options.heartbeatMs)
      return { keep: true, urgent: false, reason: 'heartbeat' };
    return { keep: false, urgent: false, reason: 'none' };
  }

  /** Whether to publish now, given what waits in the buffer. */
  shouldFlush(waiting: number, oldestWaitingTs: number | undefined, now: number, urgent: boolean): boolean {
    if (waiting === 0) return false;
    if (urgent || waiting >= this.options.batchSize) return true;
    return oldestWaitingTs !== undefined && now - oldestWaitingTs >= this.options.maxBatchDelayMs;
  }
}

/** The policy's thresholds from the building's safety limits (CO2 limits, temperature limits). */
export function edgePolicyFor(
  safety: { co2Limit: number; co2HighLimit: number; minTemperature: number } | undefined,
  overrides: Partial<EdgePolicyOptions> = {},
): EdgePolicyOptions {
  const thresholds = safety
    ? { co2: [safety.co2Limit, safety.co2HighLimit], temperature: [safety.minTemperature] }
    : DEFAULT_EDGE_POLICY.thresholds;
  return { ...DEFAULT_EDGE_POLICY, thresholds, ...overrides };
}
