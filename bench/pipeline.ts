/**
 * The whole pipeline under load against the raw broker, in one local cloud process:
 *   - raw: QoS 1 publish -> subscriber over mutual TLS (bench/broker-load.ts), the broker's limit;
 *   - pipeline: the building's sensing devices publish reading messages at QoS 1 to their own
 *     telemetry topics; the ingest rule -> ingest queue -> ingest function -> Timestream, and the
 *     control rule -> control queue -> zone controller -> command shadows. Two rates, with none
 *     dead-lettered (the books): sustained, the readings that became queryable per second between
 *     10% and 90% of them stored (Timestream counted every 100 ms from the first publish), and end
 *     to end, from the first publish until every reading is queryable. The end-to-end figure of a
 *     burst includes the last batch's wait: the ingest function's event source mapping gathers
 *     up to 100 readings for up to 5 s (lib/ingest-pipeline.ts), as Lambda does on AWS, so a
 *     5,000-message burst pays up to 5 s that no longer run would.
 * The ratio pipeline / raw is the figure the issue asks for; CPU is split between the cloud
 * process and each function's instances.
 */
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { QueryCommand, TimestreamQueryClient } from '@aws-sdk/client-timestream-query';
import type { mqtt } from 'aws-iot-device-sdk-v2';
import { devicesOf, type Reading, STACK_OUTPUT, TELEMETRY_VERSION } from '../contracts';
import type { DeviceBundle } from '../device/bundle';
import type { DeployedBuilding } from './deployed';
import { cpuByFunction, cpuDelta, procAvailable } from './proc';
import { withTimeout } from './report';
import { project, zoneSeries } from './series';
import { type BenchTarget, clientConfig } from './target';

export interface PipelineLoad {
  readonly messages: number;
  readonly readingsPerMessage: number;
  /** QoS 1 publishes awaiting PUBACK at once, over all devices. */
  readonly inFlight: number;
}

export interface PipelineResult {
  /** Sustained: messages whose readings became queryable per second, from 10% to 90% stored. */
  readonly messagesPerSecond: number;
  readonly readingsPerSecond: number;
  /** From the first publish until every reading is queryable. */
  readonly endToEndMessagesPerSecond: number;
  readonly published: number;
  readonly stored: number;
  readonly deadLettered: number;
  readonly seconds: number;
  /** From the first publish to the last PUBACK. */
  readonly publishSeconds: number;
  /**
   * How long the control queue took to empty after the last reading was stored, s: the
   * controller's backlog. The CPU figures are taken once it is empty, so they hold the
   * controller's work for every message of the run.
   */
  readonly controlBacklogSeconds: number;
  /** CPU seconds by process: '' the cloud, else a function's name. */
  readonly cpu: ReadonlyMap<string, number>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function targetOf(d: DeployedBuilding): BenchTarget {
  return {
    name: 'zonectl',
    apiEndpoint: d.cloud.apiEndpoint,
    mqttHost: d.cloud.mqttHost,
    mqttPort: d.cloud.mqttPort,
    caPem: d.cloud.caPem,
    region: d.cloud.region,
    pid: d.cloud.pid,
  };
}

/** Connects as a device from its bundle (its own client id, certificate and CA). */
export async function connectAs(bundle: DeviceBundle, port: number): Promise<mqtt.MqttClientConnection> {
  const { iot, mqtt } = await import('aws-iot-device-sdk-v2');
  const config = iot.AwsIotMqttConnectionConfigBuilder.new_mtls_builder(
    bundle.certificatePem,
    bundle.privateKeyPem,
  )
    .with_certificate_authority(bundle.caPem)
    .with_endpoint('127.0.0.1')
    .with_port(port)
    .with_client_id(bundle.clientId)
    .with_clean_session(true)
    .with_keep_alive_seconds(60)
    .with_protocol_operation_timeout_ms(30_000)
    .build();
  const connection = new mqtt.MqttClient().new_connection(config);
  await withTimeout(`connecting ${bundle.clientId}`, 15_000, connection.connect());
  return connection;
}

/** Readings stored in the building's table, by Timestream query. */
export async function storedCount(d: DeployedBuilding, query: TimestreamQueryClient): Promise<number> {
  const db = d.outputs[STACK_OUTPUT.timestreamDatabase];
  const table = d.outputs[STACK_OUTPUT.timestreamTable];
  const out = await query.send(new QueryCommand({ QueryString: `SELECT count(*) FROM "${db}"."${table}"` }));
  return Number(out.Rows?.[0]?.Data?.[0]?.ScalarValue ?? 0);
}

/** Messages in a queue, waiting or in flight. */
async function queued(sqs: SQSClient, queueUrl: string | undefined): Promise<number> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  const a = out.Attributes ?? {};
  return Number(a.ApproximateNumberOfMessages ?? 0) + Number(a.ApproximateNumberOfMessagesNotVisible ?? 0);
}

const deadLetters = (d: DeployedBuilding, sqs: SQSClient) =>
  queued(sqs, d.outputs[STACK_OUTPUT.deadLetterQueueUrl]);

/** Waits until the control queue is empty; returns how long that took, s. */
async function controlBacklog(d: DeployedBuilding, sqs: SQSClient): Promise<number> {
  const since = performance.now();
  const deadline = since + 120_000;
  while ((await queued(sqs, d.outputs[STACK_OUTPUT.controlQueueUrl])) > 0) {
    if (performance.now() > deadline) throw new Error('the control queue did not empty within 120 s');
    await sleep(100);
  }
  return (performance.now() - since) / 1000;
}

let runSeq = 0;

export async function pipelineRun(d: DeployedBuilding, o: PipelineLoad): Promise<PipelineResult> {
  const { mqtt } = await import('aws-iot-device-sdk-v2');
  const target = targetOf(d);
  const sensors = devicesOf(d.config).filter((dev) => dev.senses.length > 0);
  const query = new TimestreamQueryClient(clientConfig(target));
  const sqs = new SQSClient(clientConfig(target));
  const connections = await Promise.all(sensors.map((s) => connectAs(d.bundles[s.thing]!, target.mqttPort)));
  try {
    const before = await storedCount(d, query);
    const deadBefore = await deadLetters(d, sqs);
    // Distinct timestamps per run (a minute apart; a run spans seconds) and reading, within
    // Timestream's memory store window, and recent enough (at most 20 minutes old) for the zone
    // controller to act on (lambda/controller/building-clock.ts leaves readings more than 30
    // minutes old out of its decisions): the control path does its real work in every run.
    const base = Date.now() - 20 * 60_000 + (runSeq++ % 10) * 60_000;
    const messages = sensors.map((s, k) => {
      const samples = zoneSeries({
        samples: o.readingsPerMessage,
        intervalMs: 1,
        startMs: base,
        seed: k + 1,
      });
      return { sensor: s, samples };
    });
    const bodyFor = (i: number) => {
      const m = messages[i % messages.length]!;
      const seqBase = Math.floor(i / messages.length) * o.readingsPerMessage;
      const readings: Reading[] = m.samples.map((sample, j) => ({
        ts: base + (seqBase + j) * 3,
        seq: 1_000_000 * runSeq + seqBase + j,
        ...project(sample.values, m.sensor.senses),
      }));
      return JSON.stringify({ v: TELEMETRY_VERSION, readings });
    };
    const cpuBefore = procAvailable() ? cpuByFunction(target.pid!) : new Map<string, number>();
    const expected = o.messages * o.readingsPerMessage;
    const started = performance.now();
    // Readings stored over time, counted from the first publish until all are queryable.
    const samples: Array<{ at: number; stored: number }> = [];
    let stored = 0;
    let abandoned = false;
    const counting = withTimeout(
      `storing ${expected} readings`,
      300_000,
      (async () => {
        for (;;) {
          stored = (await storedCount(d, query)) - before;
          samples.push({ at: performance.now(), stored });
          if (stored >= expected || abandoned) return;
          await sleep(100);
        }
      })(),
    );
    counting.catch(() => {}); // awaited below; a failed publish abandons it
    try {
      let next = 0;
      const worker = async () => {
        while (next < o.messages) {
          const i = next++;
          const k = i % sensors.length;
          await connections[k]!.publish(
            d.bundles[sensors[k]!.thing]!.topics.telemetry,
            bodyFor(i),
            mqtt.QoS.AtLeastOnce,
          );
        }
      };
      await Promise.all(Array.from({ length: o.inFlight }, worker));
    } catch (err) {
      abandoned = true;
      throw err;
    }
    const publishSeconds = (performance.now() - started) / 1000;
    await counting;
    const seconds = (performance.now() - started) / 1000;
    const controlBacklogSeconds = await controlBacklog(d, sqs);
    const cpu = procAvailable() ? cpuDelta(cpuBefore, cpuByFunction(target.pid!)) : new Map<string, number>();
    const sustained = sustainedRate(samples, expected);
    return {
      messagesPerSecond: sustained / o.readingsPerMessage,
      readingsPerSecond: sustained,
      endToEndMessagesPerSecond: o.messages / seconds,
      published: expected,
      stored,
      deadLettered: (await deadLetters(d, sqs)) - deadBefore,
      seconds,
      publishSeconds,
      controlBacklogSeconds,
      cpu,
    };
  } finally {
    await Promise.allSettled(connections.map((c) => c.disconnect()));
    query.destroy();
    sqs.destroy();
  }
}

/**
 * Readings stored per second between the first count at or above 10% of `expected` and the
 * first at or above 90%: the pipeline's rate once it runs, without its start or the last batch's
 * wait. Counts that jump past both marks at once (a run too short to see) give the rate over the
 * whole run instead.
 */
export function sustainedRate(
  samples: ReadonlyArray<{ at: number; stored: number }>,
  expected: number,
): number {
  const from = samples.find((s) => s.stored >= expected * 0.1);
  const to = samples.find((s) => s.stored >= expected * 0.9);
  if (!from || !to || to.at <= from.at) {
    const first = samples[0];
    const last = samples.at(-1);
    if (!first || !last || last.at <= first.at) return 0;
    return (last.stored - first.stored) / ((last.at - first.at) / 1000);
  }
  return (to.stored - from.stored) / ((to.at - from.at) / 1000);
}

/** CPU seconds of the functions whose name contains `part` (the deployer names them after their logical id). */
export function cpuOf(cpu: ReadonlyMap<string, number>, part: string): number {
  let n = 0;
  for (const [name, s] of cpu) if (name.includes(part)) n += s;
  return n;
}
