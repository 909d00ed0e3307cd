import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GetThingShadowCommand,
  IoTDataPlaneClient,
  ResourceNotFoundException,
  UpdateThingShadowCommand,
} from '@aws-sdk/client-iot-data-plane';
import { SQSClient } from '@aws-sdk/client-sqs';
import { TimestreamWriteClient, WriteRecordsCommand } from '@aws-sdk/client-timestream-write';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CONTROL_EVENT_KIND, ENV, parseBuildingConfigText, zoneControlConfigOf } from '../../contracts';
import { handler as controllerHandler } from '../../lambda/controller/handler';
import { handler as ingestHandler } from '../../lambda/ingest/handler';
import { ingestBody, reading, sqsEvent } from './fixtures';

/** The exported `handler`s as Lambda runs them: configured only through the environment. */

const timestream = mockClient(TimestreamWriteClient);
const sqs = mockClient(SQSClient);
const iotData = mockClient(IoTDataPlaneClient);

const ENVIRONMENT: Record<string, string> = {
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'AKIDTEST',
  AWS_SECRET_ACCESS_KEY: 'test-secret',
  POWERTOOLS_METRICS_DISABLED: 'true',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  [ENV.buildingId]: 'hq',
  [ENV.timestreamDatabase]: 'db',
  [ENV.timestreamTable]: 'readings',
  [ENV.deadLetterQueueUrl]: 'https://sqs.eu-west-1.amazonaws.com/123456789012/dlq',
  [ENV.iotDataEndpoint]: 'a1b2c3d4e5f6g7-ats.iot.eu-west-1.amazonaws.com',
};

const taskRoot = mkdtempSync(join(tmpdir(), 'zonectl-task-root-'));

beforeAll(() => {
  for (const [k, v] of Object.entries(ENVIRONMENT)) vi.stubEnv(k, v);
  const building = parseBuildingConfigText(
    readFileSync(new URL('../../building.json', import.meta.url), 'utf8'),
  );
  // The controller reads its config from the file the stack ships in its asset.
  writeFileSync(join(taskRoot, 'zone-control.json'), JSON.stringify(zoneControlConfigOf(building)));
  vi.stubEnv(ENV.configFile, 'zone-control.json');
  vi.stubEnv('LAMBDA_TASK_ROOT', taskRoot);
  timestream.on(WriteRecordsCommand).resolves({});
  iotData
    .on(GetThingShadowCommand)
    .rejects(new ResourceNotFoundException({ message: 'none', $metadata: {} }));
  iotData.on(UpdateThingShadowCommand).resolves({});
});

afterAll(() => {
  vi.unstubAllEnvs();
  rmSync(taskRoot, { recursive: true, force: true });
  timestream.restore();
  sqs.restore();
  iotData.restore();
});

describe('exported handlers', () => {
  it('ingest handler writes a batch with the configured database and table', async () => {
    const response = await ingestHandler(sqsEvent([ingestBody({ readings: [reading(1)] })]));
    expect(response.batchItemFailures).toEqual([]);
    expect(timestream.commandCalls(WriteRecordsCommand)[0]?.args[0].input).toMatchObject({
      DatabaseName: 'db',
      TableName: 'readings',
    });
  });

  it('controller handler commands the actuators of the example building from a control queue batch', async () => {
    const body = JSON.stringify({
      kind: CONTROL_EVENT_KIND,
      building: 'hq',
      zone: 'meeting-a',
      thing: 'hq-meeta-multi',
      readings: [{ ts: Date.now(), seq: 1, temperature: 12 }],
    });
    const response = await controllerHandler(sqsEvent([body]));
    expect(response).toEqual({ batchItemFailures: [] });
    expect(iotData.commandCalls(UpdateThingShadowCommand).map((c) => c.args[0].input.thingName)).toEqual([
      'hq-meeta-room',
    ]);
  });
});
