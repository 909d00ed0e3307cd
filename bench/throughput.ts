/**
 * Local cloud throughput, short runs:
 *   (a) the rules engine's IoT SQL: INGEST_RULE and CONTROL_RULE from contracts, compiled once
 *       and evaluated on a realistic reading message (10 readings), evaluations per second,
 *       median of 5 runs;
 *   (b) local Timestream writes through the WriteRecords handler (bench/timestream-write.ts),
 *       median of 3 runs;
 *   (c) end to end: one device publishing reading messages at QoS 1 over mutual TLS, the
 *       ingest rule's SQL and its SQS action, messages landing in the queue: messages per
 *       second and publish-to-queue latency.
 */
import {
  controlRule,
  ingestRule,
  parseBuildingConfigText,
  publishedMessage,
  type Reading,
  type RuleSql,
  TELEMETRY_VERSION,
  telemetryTopic,
} from '../contracts';
import { DEFAULT_IDENTITY } from '../local/common/account';
import { compileRule, type RuleMessage } from '../local/rules/sql';
import { type BenchCloud, startBenchCloud } from './cloud';
import { fleet, provisionDevices } from './fleet';
import { type Metric, median, withTimeout } from './report';
import { project, zoneSeries } from './series';
import { benchWrite } from './timestream-write';

const CONTROL_RULE = controlRule('hq');
const INGEST_RULE = ingestRule('hq');

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A reading message as an agent sends it: 10 readings of a climate sensor, 10 s apart. */
export function readingMessage(
  startMs: number,
  firstSeq: number,
  count = 10,
): { v: number; readings: Reading[] } {
  const samples = zoneSeries({ samples: count, intervalMs: 10_000, startMs, seed: 7 });
  return {
    v: TELEMETRY_VERSION,
    readings: samples.map((s, i) => ({
      ts: s.at,
      seq: firstSeq + i,
      ...project(s.values, ['temperature', 'humidity', 'co2']),
    })),
  };
}

export interface SqlBenchOptions {
  readonly evaluations: number;
  readonly runs: number;
}

export function rulesEngineMetrics(o: SqlBenchOptions = { evaluations: 20_000, runs: 5 }): Metric[] {
  const address = { building: 'hq', zone: 'lobby', thing: 'hq-lobby-climate' };
  const payload = Buffer.from(JSON.stringify(readingMessage(Date.now() - 100_000, 0)));
  const message: RuleMessage = {
    topic: telemetryTopic(address),
    payload,
    clientId: address.thing,
    principal: 'a'.repeat(64),
    timestamp: Date.now(),
  };
  const ctx = { accountId: DEFAULT_IDENTITY.accountId };
  const rules: Array<[string, RuleSql]> = [
    ['INGEST_RULE', INGEST_RULE],
    ['CONTROL_RULE', CONTROL_RULE],
  ];
  return rules.map(([name, rule]) => {
    const compiled = compileRule(rule.sql, rule.awsIotSqlVersion);
    if (!compiled.matchesTopic(message.topic)) throw new Error(`${name} does not match ${message.topic}`);
    // warm up the JIT before timing
    for (let i = 0; i < 2_000; i++) compiled.evaluate(message, ctx);
    const rates: number[] = [];
    let matched = 0;
    for (let run = 0; run < o.runs; run++) {
      const started = process.hrtime.bigint();
      for (let i = 0; i < o.evaluations; i++) if (compiled.evaluate(message, ctx).matched) matched++;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      rates.push(o.evaluations / seconds);
    }
    if (matched !== o.runs * o.evaluations) throw new Error(`${name} did not match every message`);
    return {
      id: `rules.evaluationsPerSecond.${name}`,
      metric: `rules engine: ${name} evaluations`,
      value: median(rates),
      unit: 'evals/s',
      note: `median of ${o.runs} runs of ${o.evaluations.toLocaleString('en-US')}; ${payload.length} B message of 10 readings, JSON parse included`,
    };
  });
}

export async function timestreamMetrics(records = 20_000, runs = 3): Promise<Metric[]> {
  const results = [];
  for (let i = 0; i < runs; i++) results.push(await benchWrite(records));
  const rate = median(results.map((r) => r.recordsPerSecond));
  return [
    {
      id: 'timestream.recordsPerSecond',
      metric: 'local Timestream WriteRecords',
      value: rate,
      unit: 'records/s',
      note: `benchWrite: median of ${runs} runs of ${records.toLocaleString('en-US')} multi-measure records in calls of 100 (handler, no HTTP)`,
    },
  ];
}

export interface EndToEndOptions {
  readonly messages: number;
  /** QoS 1 publishes awaiting PUBACK at once. */
  readonly inFlight: number;
  readonly buildingJson: string;
}

/** MQTT publish -> rules engine (INGEST_RULE) -> SQS, on a local cloud of its own. */
export async function endToEndMetrics(o: EndToEndOptions): Promise<Metric[]> {
  let bench: BenchCloud | undefined;
  let connection: { disconnect(): Promise<unknown> } | undefined;
  try {
    bench = await startBenchCloud('e2e');
    const { cloud } = bench;
    const config = parseBuildingConfigText(o.buildingJson);
    const [bundle] = await provisionDevices(cloud, config, fleet(config, 1));
    if (!bundle) throw new Error('no device to publish with');
    const queueUrl = await cloud.sqs.createQueue('zonectl-bench-ingest');
    cloud.iot.registry.createTopicRule('zonectl_bench_ingest', {
      sql: INGEST_RULE.sql,
      awsIotSqlVersion: INGEST_RULE.awsIotSqlVersion,
      actions: [
        { sqs: { queueUrl, roleArn: `arn:aws:iam::${cloud.identity.accountId}:role/zonectl-bench` } },
      ],
    });

    const { iot, mqtt } = await import('aws-iot-device-sdk-v2');
    const built = iot.AwsIotMqttConnectionConfigBuilder.new_mtls_builder(
      bundle.certificatePem,
      bundle.privateKeyPem,
    )
      .with_certificate_authority(bundle.caPem)
      .with_endpoint(bundle.endpoint.host)
      .with_port(bundle.endpoint.port)
      .with_client_id(bundle.clientId)
      .with_clean_session(true)
      .with_keep_alive_seconds(30)
      .with_protocol_operation_timeout_ms(20_000)
      .build();
    const conn = new mqtt.MqttClient().new_connection(built);
    connection = conn;
    await withTimeout('connecting the publisher', 10_000, conn.connect());

    const sentAt: number[] = [];
    const started = Date.now();
    let next = 0;
    const worker = async () => {
      while (next < o.messages) {
        const i = next++;
        const now = Date.now();
        const message = readingMessage(now - 90_000, i * 10);
        sentAt[i] = now;
        await conn.publish(
          bundle.topics.telemetry,
          JSON.stringify({ ...message, benchIndex: i }),
          mqtt.QoS.AtLeastOnce,
        );
      }
    };
    await withTimeout(
      `publishing ${o.messages} messages`,
      60_000,
      Promise.all(Array.from({ length: o.inFlight }, worker)),
    );
    const publishedSeconds = (Date.now() - started) / 1000;
    const sqs = cloud.sqs;
    const deadline = Date.now() + 30_000;
    while (sqs.counts(queueUrl).visible < o.messages) {
      if (Date.now() > deadline) {
        throw new Error(
          `only ${sqs.counts(queueUrl).visible} of ${o.messages} messages reached the queue in 30 s`,
        );
      }
      await sleep(10);
    }
    const allQueuedSeconds = (Date.now() - started) / 1000;

    const latencies: number[] = [];
    while (latencies.length < o.messages) {
      const batch = await sqs.receive(queueUrl, { maxMessages: 10, waitSeconds: 0 });
      if (batch.length === 0) break;
      for (const { message } of batch) {
        // The ingest rule's output carries the published message in base64.
        const published = publishedMessage(JSON.parse(message.body)) as { benchIndex?: number } | undefined;
        const sent = published?.benchIndex === undefined ? undefined : sentAt[published.benchIndex];
        if (sent !== undefined) latencies.push(message.sentAt - sent);
      }
    }
    latencies.sort((a, b) => a - b);
    const p95 = latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.95))] ?? Number.NaN;
    return [
      {
        id: 'e2e.messagesPerSecond',
        metric: 'MQTT publish -> rules engine -> SQS',
        value: o.messages / allQueuedSeconds,
        unit: 'messages/s',
        note: `${o.messages} QoS 1 messages of 10 readings, ${o.inFlight} in flight, one device; publishing took ${publishedSeconds.toFixed(2)} s`,
      },
      {
        id: 'e2e.latencyMedianMs',
        metric: 'publish -> in the queue, median',
        value: median(latencies),
        unit: 'ms',
        note: `p95 ${p95} ms over ${latencies.length} messages (publish call to SQS SendMessage)`,
      },
    ];
  } finally {
    if (connection) await withTimeout('disconnecting', 5_000, connection.disconnect()).catch(() => undefined);
    await bench?.close();
  }
}
