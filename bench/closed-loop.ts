/**
 * The closed loop on the deployed pipeline: a zone's sensor publishes one reading that must
 * switch the zone's heating (12 degC, then 28 degC, alternately), the control rule, the control
 * queue and the zone controller write `desired` on the actuator's command shadow, the actuator's
 * device agent (device/agent.ts, simulated drivers) applies it and reports it. An observer device
 * subscribed to the shadow's update/documents topic sees both changes as they are made, so each
 * trial gives the whole loop (publish -> reported) and its two legs: the cloud's (publish ->
 * desired) and the agent's (desired -> reported).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { mqtt } from 'aws-iot-device-sdk-v2';
import { COMMAND_SHADOW_NAME, devicesOf, shadowTopicPrefix, TELEMETRY_VERSION } from '../contracts';
import type { DeployedBuilding } from './deployed';
import { connectAs, targetOf } from './pipeline';
import { type Metric, median } from './report';
import { percentile } from './stats';
import { connectMqtt, provisionBenchDevices } from './target';

export interface LoopResult {
  readonly loop: readonly number[];
  readonly cloudLeg: readonly number[];
  readonly agentLeg: readonly number[];
}

interface ShadowDocuments {
  current?: { state?: { desired?: { heating?: unknown }; reported?: { heating?: unknown } } };
}

/** A zone with a temperature sensor and an actuator that drives heating. */
function loopDevices(d: DeployedBuilding): { sensor: string; actuator: string } {
  const devices = devicesOf(d.config);
  for (const zone of d.config.zones) {
    const sensor = devices.find((x) => x.zone === zone.id && x.senses.includes('temperature'));
    const actuator = devices.find((x) => x.zone === zone.id && x.drives.includes('heating'));
    if (sensor && actuator && sensor.thing !== actuator.thing)
      return { sensor: sensor.thing, actuator: actuator.thing };
  }
  throw new Error('the building has no zone with a temperature sensor and a separate heating actuator');
}

export async function closedLoop(
  d: DeployedBuilding,
  o: { trials: number; warmup: number },
  say: (line: string) => void,
): Promise<LoopResult> {
  const { mqtt } = await import('aws-iot-device-sdk-v2');
  const { runAgent } = await import('../device/agent');
  const target = targetOf(d);
  const { sensor, actuator } = loopDevices(d);
  const documentsTopic = `${shadowTopicPrefix(actuator, COMMAND_SHADOW_NAME)}/update/documents`;
  const arn = (r: string) => `arn:aws:iot:*:*:${r}`;
  const [observer] = await provisionBenchDevices(target, [`bench-observer-${Date.now().toString(36)}`], {
    policyDocument: JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 'iot:Connect', Resource: arn('client/${iot:Connection.Thing.ThingName}') },
        { Effect: 'Allow', Action: 'iot:Subscribe', Resource: arn(`topicfilter/${documentsTopic}`) },
        { Effect: 'Allow', Action: 'iot:Receive', Resource: arn(`topic/${documentsTopic}`) },
      ],
    }),
  });
  const dataDir = mkdtempSync(join(tmpdir(), 'zonectl-bench-loop-'));
  const agent = await runAgent(d.bundles[actuator]!, { dataDir, log: () => {} });
  const watch = await connectMqtt(target, observer!);
  const publisher: mqtt.MqttClientConnection = await connectAs(d.bundles[sensor]!, target.mqttPort);
  try {
    let onDocument: (doc: ShadowDocuments, at: number) => void = () => {};
    await watch.subscribe(documentsTopic, mqtt.QoS.AtMostOnce, (_topic, payload) => {
      const at = performance.now();
      onDocument(JSON.parse(Buffer.from(payload).toString('utf8')) as ShadowDocuments, at);
    });
    await waitUntil(() => agent.stats().online, 15_000, 'the actuator agent to connect');

    const result = { loop: [] as number[], cloudLeg: [] as number[], agentLeg: [] as number[] };
    let seq = 1;
    for (let trial = 0; trial < o.warmup + o.trials; trial++) {
      const heating = trial % 2 === 0 ? 'on' : 'off';
      const temperature = heating === 'on' ? 12 : 28;
      let desiredAt: number | undefined;
      const reported = new Promise<number>((resolve) => {
        onDocument = (doc, at) => {
          const state = doc.current?.state;
          if (desiredAt === undefined && state?.desired?.heating === heating) desiredAt = at;
          if (desiredAt !== undefined && state?.reported?.heating === heating) resolve(at);
        };
      });
      const sent = performance.now();
      await publisher.publish(
        d.bundles[sensor]!.topics.telemetry,
        JSON.stringify({ v: TELEMETRY_VERSION, readings: [{ ts: Date.now(), seq: seq++, temperature }] }),
        mqtt.QoS.AtLeastOnce,
      );
      const reportedAt = await Promise.race([
        reported,
        new Promise<number>((_, reject) =>
          setTimeout(
            () => reject(new Error(`trial ${trial + 1}: heating ${heating} not reported within 15 s`)),
            15_000,
          ),
        ),
      ]);
      if (trial < o.warmup) continue;
      result.loop.push(reportedAt - sent);
      result.cloudLeg.push(desiredAt! - sent);
      result.agentLeg.push(reportedAt - desiredAt!);
      if ((trial - o.warmup + 1) % 20 === 0) say(`${trial - o.warmup + 1} of ${o.trials} trials`);
    }
    return result;
  } finally {
    await Promise.allSettled([watch.disconnect(), publisher.disconnect(), agent.stop()]);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function waitUntil(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export function loopMetrics(r: LoopResult): Metric[] {
  const fmt = (xs: readonly number[]) =>
    `p50 ${median(xs).toFixed(1)} ms, p99 ${percentile(xs, 99).toFixed(1)} ms`;
  return [
    {
      id: 'loop.p99Ms',
      metric: 'closed loop, publish -> reported, p99',
      value: percentile(r.loop, 99),
      unit: 'ms',
      note: `${fmt(r.loop)} over ${r.loop.length} trials; a reading that switches heating, to the actuator agent's report`,
    },
    {
      id: 'loop.p50Ms',
      metric: 'closed loop, publish -> reported, p50',
      value: median(r.loop),
      unit: 'ms',
      note: `cloud leg (publish -> desired) ${fmt(r.cloudLeg)}; agent leg (desired -> reported) ${fmt(r.agentLeg)}`,
    },
  ];
}
