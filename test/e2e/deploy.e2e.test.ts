/**
 * Deploying the project's synthesized assembly into the local cloud: the deployment report
 * accounts for every resource of the template, and a second deploy changes nothing and keeps
 * the services' state.
 */
import { join } from 'node:path';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STACK_OUTPUT, TELEMETRY_VERSION } from '../../contracts';
import type { CfnTemplate } from '../../local/deployer/assembly';
import { connectDevice, disconnectAll } from '../helpers/mqtt-device';
import { SENSOR } from './helpers/assembly';
import {
  type Pipeline,
  printLogsOnFailure,
  readJson,
  STACK_NAME,
  startPipeline,
  storedReadings,
} from './helpers/pipeline';

/** Resource types on the data path: each must be created in a local service. */
const DATA_PATH_TYPES = [
  'AWS::IoT::Thing',
  'AWS::IoT::Policy',
  'AWS::IoT::Certificate',
  'AWS::IoT::ThingPrincipalAttachment',
  'AWS::IoT::PolicyPrincipalAttachment',
  'AWS::IoT::TopicRule',
  'AWS::SQS::Queue',
  'AWS::Lambda::Function',
  'AWS::Lambda::EventSourceMapping',
  'AWS::Timestream::Database',
  'AWS::Timestream::Table',
];
/** Services with no local stand-in: accepted and reported as not emulated. */
const NOT_EMULATED_PREFIXES = ['AWS::CloudWatch::', 'AWS::IAM::', 'AWS::SNS::', 'AWS::KMS::'];

let pipeline: Pipeline;
let template: CfnTemplate;

beforeAll(async () => {
  pipeline = await startPipeline();
  template = readJson<CfnTemplate>(join(pipeline.assembly.cdkOut, `${STACK_NAME}.template.json`));
}, 240_000);

printLogsOnFailure(() => pipeline);

afterAll(async () => {
  await disconnectAll();
  await pipeline?.close();
});

describe('deploying the synthesized assembly', () => {
  it('reports every resource of the template: data-path ones created, the rest not emulated', () => {
    const report = pipeline.firstDeploy.report.filter((l) => l.stackName === STACK_NAME);
    expect(report.map((l) => l.logicalId).sort()).toEqual(Object.keys(template.Resources).sort());
    for (const line of report) {
      const where = `${line.logicalId} (${line.type})`;
      if (DATA_PATH_TYPES.includes(line.type)) expect(line.status, where).toBe('created');
      if (NOT_EMULATED_PREFIXES.some((p) => line.type.startsWith(p))) {
        expect(line.status, where).toBe('not emulated');
        expect(line.note, where).toBeTruthy();
      }
    }
    const types = new Set(report.map((l) => l.type));
    for (const type of [...DATA_PATH_TYPES, 'AWS::CloudWatch::Alarm', 'AWS::IAM::Role', 'AWS::SNS::Topic']) {
      expect(types, type).toContain(type);
    }
    // one certificate per onboarded CSR
    expect(report.filter((l) => l.type === 'AWS::IoT::Certificate')).toHaveLength(2);
  });

  it('redeploys the same assembly as unchanged without losing a queued message or a stored reading', async () => {
    // a stored reading, through the deployed pipeline
    const files = pipeline.files(SENSOR);
    const device = await connectDevice({
      port: pipeline.cloud.endpoints.mqttPort,
      clientId: SENSOR,
      ...files,
    });
    const ts = Date.now();
    await device.publish(pipeline.bundles[SENSOR]!.topics.telemetry, {
      v: TELEMETRY_VERSION,
      readings: [{ ts, seq: 1, temperature: 21.25 }],
    });
    await device.disconnect();
    await expect
      .poll(async () => (await storedReadings(pipeline, SENSOR)).length, {
        timeout: 30_000,
        interval: 100,
        message: 'the reading is stored',
      })
      .toBeGreaterThan(0);
    // a queued message
    const { sqs } = pipeline.clients();
    const dlq = pipeline.outputs[STACK_OUTPUT.deadLetterQueueUrl]!;
    await sqs.send(new SendMessageCommand({ QueueUrl: dlq, MessageBody: 'kept across deploys' }));

    const second = await pipeline.deploy();
    const report = second.report.filter((l) => l.stackName === STACK_NAME);
    expect(report.map((l) => l.logicalId).sort()).toEqual(Object.keys(template.Resources).sort());
    const changed = report.filter((l) => l.status !== 'unchanged' && l.status !== 'not emulated');
    expect(changed, 'resources changed by an identical deploy').toEqual([]);
    expect(second.outputs[STACK_NAME]).toEqual(pipeline.outputs);

    const stored = await storedReadings(pipeline, SENSOR);
    expect(stored).toEqual([expect.objectContaining({ thing: SENSOR, seq: 1, temperature: 21.25 })]);
    const received = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: dlq, MaxNumberOfMessages: 10, WaitTimeSeconds: 2 }),
    );
    expect((received.Messages ?? []).map((m) => m.Body)).toContain('kept across deploys');
  });
});
