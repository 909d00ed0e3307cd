/**
 * Messages published per 1,000 sensor samples under an edge policy. The policy is pure with
 * an injected clock, so the samples of `series.ts` are fed to it at their own timestamps and
 * the agent's publish rule is replayed (device/agent.ts: keep -> wait -> flush in messages of
 * up to `batchSize` readings when `shouldFlush` says so, all waiting readings at once; what
 * waits at the end is flushed as the agent's stop does). Every message is assumed acknowledged
 * at once (a device online the whole time).
 */
import {
  devicesOf,
  MAX_READINGS_PER_MESSAGE,
  parseBuildingConfigText,
  type Reading,
  type SensorKind,
  TELEMETRY_VERSION,
} from '../contracts';
import { EdgePolicy, type EdgePolicyOptions } from '../device/edge-policy';
import { project, type ZoneSample } from './series';

/** AWS IoT Core meters messages in 5 KB increments (a 6 KB message is two messages). */
export const IOT_MESSAGE_METERING_BYTES = 5 * 1024;

export interface PublishSimulation {
  readonly samples: number;
  /** Samples the policy kept as readings. */
  readonly readings: number;
  readonly messages: number;
  /** Messages as AWS IoT bills them (each message in 5 KB steps). */
  readonly billedMessages: number;
  readonly payloadBytes: number;
  /** Messages sent at once for an occupancy change, a threshold crossing or the first reading. */
  readonly urgentFlushes: number;
  /** The readings as published, message by message. */
  readonly published: Reading[][];
}

/** Replays the agent's keep/flush rules over the samples of one device. */
export function simulatePublishing(
  samples: readonly ZoneSample[],
  kinds: readonly SensorKind[],
  options: EdgePolicyOptions,
): PublishSimulation {
  const policy = new EdgePolicy(options);
  const batchSize = Math.min(options.batchSize, MAX_READINGS_PER_MESSAGE);
  const waiting: Reading[] = [];
  const published: Reading[][] = [];
  let seq = 0;
  let readings = 0;
  let urgent = false;
  let urgentFlushes = 0;
  const flush = () => {
    while (waiting.length > 0) published.push(waiting.splice(0, batchSize));
    urgent = false;
  };
  for (const sample of samples) {
    const values = project(sample.values, kinds);
    const decision = policy.consider(values, sample.at);
    if (decision.keep) {
      waiting.push({ ts: sample.at, seq: seq++, ...values });
      readings++;
      urgent ||= decision.urgent;
    }
    if (policy.shouldFlush(waiting.length, waiting[0]?.ts, sample.at, urgent)) {
      if (urgent) urgentFlushes++;
      flush();
    }
  }
  flush();
  let payloadBytes = 0;
  let billedMessages = 0;
  for (const batch of published) {
    const bytes = Buffer.byteLength(JSON.stringify({ v: TELEMETRY_VERSION, readings: batch }));
    payloadBytes += bytes;
    billedMessages += Math.max(1, Math.ceil(bytes / IOT_MESSAGE_METERING_BYTES));
  }
  return {
    samples: samples.length,
    readings,
    messages: published.length,
    billedMessages,
    payloadBytes,
    urgentFlushes,
    published,
  };
}

/** The distinct sensor kind sets of the building's sensing devices, with how many devices have each. */
export function sensorCombinations(
  buildingJson: string,
): Array<{ kinds: SensorKind[]; devices: number; things: string[] }> {
  const config = parseBuildingConfigText(buildingJson, 'building.json');
  const byKey = new Map<string, { kinds: SensorKind[]; devices: number; things: string[] }>();
  for (const device of devicesOf(config)) {
    if (device.senses.length === 0) continue;
    const key = device.senses.join('+');
    const entry = byKey.get(key) ?? { kinds: [...device.senses], devices: 0, things: [] };
    entry.devices++;
    entry.things.push(device.thing);
    byKey.set(key, entry);
  }
  return [...byKey.values()];
}
