import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { SQSClient } from '@aws-sdk/client-sqs';
import { TimestreamWriteClient } from '@aws-sdk/client-timestream-write';
import type { SQSEvent } from 'aws-lambda';
import { type ComfortPolicy, ComfortPolicySchema, METRICS_NAMESPACE } from '../../contracts';

/** Shared test material for the Lambda handlers. Clients point at a closed localhost port. */

const clientConfig = {
  region: 'eu-west-1',
  endpoint: 'http://127.0.0.1:9',
  credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' },
  maxAttempts: 1,
};

export const timestreamClient = () => new TimestreamWriteClient(clientConfig);
export const sqsClient = () => new SQSClient(clientConfig);
export const iotDataClient = () => new IoTDataPlaneClient(clientConfig);

export const silentLogger = () => new Logger({ serviceName: 'test', logLevel: 'SILENT' });
export const testMetrics = () => new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'test' });

/** Weekdays 07:00-19:00 in Europe/Berlin. */
export const POLICY: ComfortPolicy = ComfortPolicySchema.parse({
  occupiedSetpoint: 21,
  unoccupiedSetpoint: 17,
  temperatureHysteresis: 0.5,
  co2Limit: 900,
  co2HighLimit: 1300,
  co2Hysteresis: 100,
  lightingLux: 400,
  timezone: 'Europe/Berlin',
  schedule: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '07:00', to: '19:00' }],
  maxOverrideMinutes: 240,
});

/** Wednesday 2026-03-11 10:00 in Berlin (09:00 UTC): scheduled hours. */
export const WEDNESDAY_10_BERLIN = Date.UTC(2026, 2, 11, 9, 0);

export const TS = Date.UTC(2026, 2, 11, 8, 0);

export interface BodyOptions {
  readonly thing?: string;
  readonly zone?: string;
  readonly building?: string;
  readonly readings: unknown[];
}

/** An ingest-rule output body (IngestEnvelopeSchema) carrying the reading message `{v: 1, readings}`. */
export function ingestBody({ thing = 'hq-t1', zone = 'z1', building = 'hq', readings }: BodyOptions): string {
  return envelopeBody(Buffer.from(JSON.stringify({ v: 1, readings })), { thing, zone, building });
}

/** An ingest-rule output body for any published payload, as `encode(*, 'base64')` carries it. */
export function envelopeBody(
  payload: Uint8Array,
  { thing = 'hq-t1', zone = 'z1', building = 'hq' }: Omit<BodyOptions, 'readings'> = {},
): string {
  return JSON.stringify({
    base64Payload: Buffer.from(payload).toString('base64'),
    building,
    zone,
    thing,
    clientId: thing,
    receivedAt: TS + 1000,
  });
}

export function reading(seq: number, extra: Record<string, number> = { temperature: 21 }) {
  return { ts: TS + seq * 1000, seq, ...extra };
}

export function sqsEvent(bodies: readonly string[]): SQSEvent {
  return {
    Records: bodies.map((body, i) => ({
      messageId: `m${i}`,
      receiptHandle: `rh${i}`,
      body,
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: String(TS),
        SenderId: 'iot',
        ApproximateFirstReceiveTimestamp: String(TS),
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:ingest',
      awsRegion: 'eu-west-1',
    })),
  };
}
