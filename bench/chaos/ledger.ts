/**
 * Counting by sequence number: a device that publishes numbered readings at QoS 1 and records
 * which ones the broker acknowledged (PUBACK), and the books that read back which numbers the
 * pipeline stored (the Timestream Query API) and which it dead-lettered (the dead-letter queue,
 * whatever the shape of the dead letter). A reading acknowledged but in neither is lost.
 */
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { QueryCommand, TimestreamQueryClient } from '@aws-sdk/client-timestream-query';
import { iot, mqtt } from 'aws-iot-device-sdk-v2';
import {
  type LocalEndpoints,
  localClientConfig,
  publishedMessage,
  READING_MEASURE_NAME,
  TELEMETRY_VERSION,
} from '../../contracts';
import { createDeadLetterScanner } from '../../dashboard/dead-letter-scan';
import type { DeviceBundle } from '../../device/bundle';

export interface Publisher {
  /** Sequence numbers the broker acknowledged. */
  readonly acked: Set<number>;
  /** Sequence numbers sent (acknowledged or not). */
  sent(): number;
  /** Stops publishing and drops the connection without waiting for what is in flight. */
  stop(): Promise<void>;
  /** Resolves once `n` readings are acknowledged (or the publisher stopped). */
  ackedAtLeast(n: number): Promise<void>;
  /** Resolves when the publisher stopped on its own (its connection failed) or was stopped. */
  readonly finished: Promise<void>;
}

export interface PublishOptions {
  readonly bundle: DeviceBundle;
  readonly endpoints: LocalEndpoints;
  /** QoS 1 publishes waiting for PUBACK at once. */
  readonly inFlight: number;
  /** First sequence number. */
  readonly firstSeq: number;
  /** Stop after this many readings; default unbounded. */
  readonly total?: number;
}

/** One reading per message, so each PUBACK acknowledges exactly one sequence number. */
export function reading(seq: number, baseMs: number): string {
  return JSON.stringify({
    v: TELEMETRY_VERSION,
    readings: [{ ts: baseMs + seq, seq, temperature: 20 + (seq % 50) / 10 }],
  });
}

export async function startPublisher(o: PublishOptions): Promise<Publisher> {
  const { bundle } = o;
  const config = iot.AwsIotMqttConnectionConfigBuilder.new_mtls_builder(
    bundle.certificatePem,
    bundle.privateKeyPem,
  )
    .with_certificate_authority(bundle.caPem)
    .with_endpoint('127.0.0.1')
    .with_port(o.endpoints.mqttPort)
    .with_client_id(bundle.clientId)
    .with_clean_session(true)
    .with_keep_alive_seconds(30)
    .with_protocol_operation_timeout_ms(10_000)
    .build();
  const connection = new mqtt.MqttClient().new_connection(config);
  await connection.connect();
  const acked = new Set<number>();
  const baseMs = Date.now() - 60_000;
  let next = o.firstSeq;
  let stopped = false;
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const wake = () => {
    for (let i = waiters.length - 1; i >= 0; i--) {
      const w = waiters[i]!;
      if (acked.size >= w.n || stopped) {
        waiters.splice(i, 1);
        w.resolve();
      }
    }
  };
  const end = o.total === undefined ? Number.POSITIVE_INFINITY : o.firstSeq + o.total;
  const worker = async () => {
    while (!stopped && next < end) {
      const seq = next++;
      try {
        await connection.publish(bundle.topics.telemetry, reading(seq, baseMs), mqtt.QoS.AtLeastOnce);
      } catch {
        stopped = true; // the cloud went away: what was not acknowledged is not counted
        break;
      }
      if (stopped) break;
      acked.add(seq);
      wake();
    }
  };
  const finished = Promise.all(Array.from({ length: o.inFlight }, worker)).then(() => {
    stopped = true;
    wake();
  });
  return {
    acked,
    sent: () => next - o.firstSeq,
    finished,
    ackedAtLeast: (n) =>
      new Promise<void>((resolve) => {
        waiters.push({ n, resolve });
        wake();
      }),
    async stop() {
      stopped = true;
      wake();
      // Dropping the connection without waiting: publishes in flight are never counted.
      await Promise.race([
        connection.disconnect().catch(() => undefined),
        new Promise((r) => setTimeout(r, 2000)),
      ]);
    },
  };
}

export interface Books {
  readonly acked: number;
  readonly stored: number;
  readonly deadLettered: number;
  /** Acknowledged readings neither stored nor dead-lettered. */
  readonly lost: number;
  /** Readings found both stored and dead-lettered, or dead-lettered twice (at-least-once). */
  readonly duplicates: number;
  /** Readings waiting in the ingest queue. */
  readonly queued: number;
  /** The first lost sequence numbers, for the report. */
  readonly lostSample: readonly number[];
}

/** Every sequence number a dead letter accounts for, whatever its shape. */
export function deadLetteredSeqs(body: string): number[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return [];
  }
  const fromMessage = (m: unknown): number[] => {
    const readings = (m as { readings?: unknown } | null)?.readings;
    if (!Array.isArray(readings)) return [];
    return readings.flatMap((r) => {
      const seq = (r as { seq?: unknown } | null)?.seq;
      return typeof seq === 'number' ? [seq] : [];
    });
  };
  const p = parsed as { base64OriginalPayload?: unknown; raw?: unknown };
  if (typeof p?.base64OriginalPayload === 'string') {
    try {
      return fromMessage(JSON.parse(Buffer.from(p.base64OriginalPayload, 'base64').toString('utf8')));
    } catch {
      return [];
    }
  }
  // A redriven ingest-queue message carries the published payload in base64.
  return fromMessage(publishedMessage(parsed));
}

export interface BooksSource {
  readonly endpoints: LocalEndpoints;
  readonly thing: string;
  readonly database: string;
  readonly table: string;
  readonly deadLetterQueueUrlPath: string;
  readonly ingestQueueName?: string;
}

/** Reads back which sequence numbers were stored and dead-lettered. */
export async function countBooks(src: BooksSource, acked: ReadonlySet<number>): Promise<Books> {
  const config = localClientConfig(src.endpoints);
  const query = new TimestreamQueryClient({ ...config, maxAttempts: 2 });
  const sqs = new SQSClient({ ...config, maxAttempts: 2 });
  try {
    const stored = new Set<number>();
    let token: string | undefined;
    try {
      do {
        const out = await query.send(
          new QueryCommand({
            QueryString: `SELECT seq FROM "${src.database}"."${src.table}" WHERE thing = '${src.thing}' AND measure_name = '${READING_MEASURE_NAME}'`,
            ...(token ? { NextToken: token } : {}),
          }),
        );
        for (const row of out.Rows ?? []) {
          const v = Number(row.Data?.[0]?.ScalarValue);
          if (Number.isFinite(v)) stored.add(v);
        }
        token = out.NextToken;
      } while (token);
    } catch (err) {
      // Timestream makes a table's measure columns with its first record: none stored yet.
      if (!/column 'seq' .*does not exist/i.test((err as Error).message)) throw err;
    }

    const queueUrl = `${src.endpoints.apiEndpoint}${src.deadLetterQueueUrlPath}`;
    // Read without consuming, so a later ledger of the same state dir still sees them.
    const dead = (await createDeadLetterScanner(sqs, queueUrl)()).flatMap((m) => deadLetteredSeqs(m.body));
    const deadSet = new Set(dead);
    let duplicates = dead.length - deadSet.size;
    for (const s of deadSet) if (stored.has(s)) duplicates++;
    const lostSeqs = [...acked].filter((s) => !stored.has(s) && !deadSet.has(s)).sort((a, b) => a - b);
    const lost = lostSeqs.length;
    let queued = 0;
    if (src.ingestQueueName) {
      const attrs = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: `${src.endpoints.apiEndpoint}/${src.endpoints.accountId}/${src.ingestQueueName}`,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      queued =
        Number(attrs.Attributes?.ApproximateNumberOfMessages ?? 0) +
        Number(attrs.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
    }
    return {
      acked: acked.size,
      stored: [...acked].filter((s) => stored.has(s)).length,
      deadLettered: [...acked].filter((s) => deadSet.has(s) && !stored.has(s)).length,
      lost,
      duplicates,
      queued,
      lostSample: lostSeqs.slice(0, 20),
    };
  } finally {
    query.destroy();
    sqs.destroy();
  }
}
