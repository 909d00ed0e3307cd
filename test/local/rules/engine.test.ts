// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are IoT substitution templates, not JS templates
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  CONTROL_EVENT_KIND,
  controlRule,
  ingestRule,
  ruleName,
  TELEMETRY_VERSION,
  telemetryTopic,
} from '../../../contracts';
import { DEFAULT_IDENTITY } from '../../../local/common/account';
import { AwsServiceError } from '../../../local/common/aws-error';
import { StorageUnavailableError } from '../../../local/common/durable-fs';
import { recordingLogger } from '../../../local/common/log';
import { createRulesService, type RuleActionTargets, type RulesService } from '../../../local/rules';
import { FakeBus } from './fake-bus';

const CONTROL_RULE = controlRule('hq');
const INGEST_RULE = ingestRule('hq');

const FN_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:controller';
const QUEUE = 'http://127.0.0.1:4566/000000000000/ingest';
const DLQ = 'http://127.0.0.1:4566/000000000000/dead-letter';
const address = { building: 'hq', zone: 'lobby', thing: 'sensor-07' };
const topic = telemetryTopic(address);
const reading = { v: TELEMETRY_VERSION, readings: [{ ts: 1_763_900_000_000, seq: 1, temperature: 21.5 }] };

class RecordingTargets implements RuleActionTargets {
  readonly lambda: Array<{ functionArn: string; payload: unknown }> = [];
  readonly sqs: Array<{ queueUrl: string; body: string }> = [];
  failLambda: string | undefined;
  failQueue: string | undefined;
  /** SendMessage calls that fail as a full local disk would, before the disk has room again. */
  diskFullSends = 0;
  lambdaDelayMs = 0;

  async invokeLambdaAsync(functionArn: string, payload: Buffer): Promise<void> {
    if (this.lambdaDelayMs) await new Promise((r) => setTimeout(r, this.lambdaDelayMs));
    if (this.failLambda) throw new Error(this.failLambda);
    this.lambda.push({ functionArn, payload: JSON.parse(payload.toString('utf8')) });
  }

  async sendSqsMessage(queueUrl: string, body: string): Promise<void> {
    if (this.failQueue === queueUrl) throw new Error(`queue ${queueUrl} does not exist`);
    if (this.diskFullSends > 0) {
      this.diskFullSends--;
      throw new StorageUnavailableError('/state/sqs/messages/ingest.jsonl', 'ENOSPC', undefined);
    }
    this.sqs.push({ queueUrl, body });
  }
}

let bus: FakeBus;
let targets: RecordingTargets;
let logger: ReturnType<typeof recordingLogger>;
let engine: RulesService;

beforeEach(async () => {
  bus = new FakeBus();
  targets = new RecordingTargets();
  logger = recordingLogger();
  engine = await createRulesService({ bus, identity: DEFAULT_IDENTITY, logger, targets, now: () => 1_000 });
});

afterEach(async () => {
  await engine.close();
});

describe('rules engine', () => {
  it('sends the ingest rule output to SQS for a reading', async () => {
    engine.putRule(ruleName('hq', 'ingest'), { ...INGEST_RULE, actions: [{ sqs: { queueUrl: QUEUE } }] });
    await bus.fromDevice(topic, reading);
    await engine.drain();
    expect(targets.sqs).toHaveLength(1);
    expect(JSON.parse(targets.sqs[0]!.body)).toEqual({
      base64Payload: Buffer.from(JSON.stringify(reading)).toString('base64'),
      ...address,
      clientId: 'sensor-07',
      receivedAt: 1_000,
    });
  });

  it('invokes a Lambda asynchronously from a CloudFormation-shaped rule', async () => {
    engine.putRule('control', {
      Sql: CONTROL_RULE.sql,
      AwsIotSqlVersion: CONTROL_RULE.awsIotSqlVersion,
      Actions: [{ Lambda: { FunctionArn: FN_ARN } }],
    });
    await bus.fromDevice(topic, reading);
    await engine.drain();
    expect(targets.lambda).toEqual([
      { functionArn: FN_ARN, payload: { kind: CONTROL_EVENT_KIND, ...address, readings: reading.readings } },
    ]);
  });

  it('runs no action when WHERE is not true', async () => {
    engine.putRule('control', { ...CONTROL_RULE, actions: [{ lambda: { functionArn: FN_ARN } }] });
    await bus.fromDevice(topic, { v: 1 });
    await engine.drain();
    expect(targets.lambda).toEqual([]);
  });

  it('ignores messages on topics outside FROM', async () => {
    engine.putRule('ingest', { ...INGEST_RULE, actions: [{ sqs: { queueUrl: QUEUE } }] });
    await bus.fromDevice('dt/zonectl/hq/lobby/sensor-07/status', reading);
    await engine.drain();
    expect(targets.sqs).toEqual([]);
  });

  it('runs no action for a disabled rule', async () => {
    engine.putRule('ingest', { ...INGEST_RULE, ruleDisabled: true, actions: [{ sqs: { queueUrl: QUEUE } }] });
    await bus.fromDevice(topic, reading);
    await engine.drain();
    expect(targets.sqs).toEqual([]);
  });

  it('replaces a rule that is put again', async () => {
    engine.putRule('ingest', { ...INGEST_RULE, actions: [{ sqs: { queueUrl: QUEUE } }] });
    engine.putRule('ingest', { ...INGEST_RULE, actions: [{ sqs: { queueUrl: DLQ } }] });
    await bus.fromDevice(topic, reading);
    await engine.drain();
    expect(targets.sqs.map((m) => m.queueUrl)).toEqual([DLQ]);
    expect(engine.listRules()).toHaveLength(1);
  });

  it('stops running a deleted rule', async () => {
    engine.putRule('ingest', { ...INGEST_RULE, actions: [{ sqs: { queueUrl: QUEUE } }] });
    expect(engine.deleteRule('ingest')).toBe(true);
    await bus.fromDevice(topic, reading);
    await engine.drain();
    expect(targets.sqs).toEqual([]);
    expect(engine.deleteRule('ingest')).toBe(false);
  });

  it('republishes to a templated topic, turning $$ into $', async () => {
    engine.putRule('mirror', {
      sql: "SELECT temperature FROM 'in/+'",
      awsIotSqlVersion: '2016-03-23',
      actions: [{ republish: { topic: '$$aws/things/${topic(2)}/shadow/update', qos: 1 } }],
    });
    await bus.fromDevice('in/t1', { temperature: 20 });
    await engine.drain();
    const out = bus.published.find((m) => m.topic === '$aws/things/t1/shadow/update');
    expect(out?.payload.toString()).toBe('{"temperature":20}');
    expect(out?.qos).toBe(1);
  });

  it('sends base64 to SQS when useBase64 is set', async () => {
    engine.putRule('b64', {
      sql: "SELECT * FROM 'raw/#'",
      awsIotSqlVersion: '2016-03-23',
      actions: [{ sqs: { queueUrl: QUEUE, useBase64: true } }],
    });
    const bytes = Buffer.from([1, 2, 255]);
    await bus.fromDevice('raw/x', bytes);
    await engine.drain();
    expect(targets.sqs[0]?.body).toBe(bytes.toString('base64'));
  });

  it('sends AWS-shaped error payload to the errorAction when an action fails', async () => {
    targets.failLambda = 'Function not found';
    engine.putRule('control', {
      ...CONTROL_RULE,
      actions: [{ lambda: { functionArn: FN_ARN } }, { sqs: { queueUrl: QUEUE } }],
      errorAction: { sqs: { queueUrl: DLQ } },
    });
    await bus.fromDevice(topic, reading);
    await engine.drain();
    const errors = targets.sqs.filter((m) => m.queueUrl === DLQ);
    expect(errors).toHaveLength(1);
    const report = JSON.parse(errors[0]!.body);
    expect(report).toEqual({
      ruleName: 'control',
      topic,
      cloudwatchTraceId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      clientId: 'sensor-07',
      base64OriginalPayload: Buffer.from(JSON.stringify(reading)).toString('base64'),
      failures: [
        { failedAction: 'LambdaAction', failedResource: FN_ARN, errorMessage: 'Function not found' },
      ],
    });
    expect(targets.sqs.filter((m) => m.queueUrl === QUEUE)).toHaveLength(1);
  });

  it('lists every failed action in one error message per incoming message', async () => {
    targets.failLambda = 'throttled';
    targets.failQueue = QUEUE;
    engine.putRule('both', {
      ...CONTROL_RULE,
      actions: [{ lambda: { functionArn: FN_ARN } }, { sqs: { queueUrl: QUEUE } }],
      errorAction: { sqs: { queueUrl: DLQ } },
    });
    await bus.fromDevice(topic, reading);
    await engine.drain();
    const [report] = targets.sqs.map((m) => JSON.parse(m.body));
    expect(targets.sqs).toHaveLength(1);
    expect(report.failures.map((f: { failedAction: string }) => f.failedAction)).toEqual([
      'LambdaAction',
      'SqsAction',
    ]);
  });

  it('logs a failed action when the rule has no errorAction', async () => {
    targets.failLambda = 'boom';
    engine.putRule('control', { ...CONTROL_RULE, actions: [{ lambda: { functionArn: FN_ARN } }] });
    await bus.fromDevice(topic, reading);
    await engine.drain();
    expect(logger.lines.some((l) => l.includes('LambdaAction') && l.includes('boom'))).toBe(true);
  });

  it('treats a SQL evaluation error as no match, without errorAction', async () => {
    engine.putRule('binary', {
      sql: "SELECT *, 1 AS one FROM 'raw/#'",
      awsIotSqlVersion: '2016-03-23',
      actions: [{ sqs: { queueUrl: QUEUE } }],
      errorAction: { sqs: { queueUrl: DLQ } },
    });
    await bus.fromDevice('raw/x', Buffer.from([0xff, 0x00]));
    await engine.drain();
    expect(targets.sqs).toEqual([]);
    expect(logger.lines.some((l) => l.includes('SQL evaluation failed'))).toBe(true);
  });

  it('sends every malformed telemetry payload to the ingest queue and none to the controller, without errors', async () => {
    engine.putRule(ruleName('hq', 'ingest'), {
      ...INGEST_RULE,
      actions: [{ sqs: { queueUrl: QUEUE } }],
      errorAction: { sqs: { queueUrl: DLQ } },
    });
    engine.putRule(ruleName('hq', 'control'), {
      ...CONTROL_RULE,
      actions: [{ lambda: { functionArn: FN_ARN } }],
      errorAction: { sqs: { queueUrl: DLQ } },
    });
    const payloads = [
      Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0xff]),
      Buffer.alloc(0),
      Buffer.from('"hello"'),
      Buffer.from('42'),
      Buffer.from('[1,2]'),
      Buffer.from(`${'['.repeat(60_000)}${']'.repeat(60_000)}`),
      Buffer.from([0x7b, 0xc3, 0x28, 0x7d]),
      Buffer.from('{"v":1}'),
    ];
    for (const p of payloads) await bus.fromDevice(topic, p);
    await engine.drain();
    await Promise.all(bus.handled);
    expect(targets.sqs.map((m) => m.queueUrl)).toEqual(payloads.map(() => QUEUE));
    expect(targets.sqs.map((m) => Buffer.from(JSON.parse(m.body).base64Payload, 'base64'))).toEqual(payloads);
    expect(targets.lambda).toEqual([]);
    expect(logger.lines.filter((l) => /WARN|ERROR|failed/i.test(l))).toEqual([]);
  });

  it('runs only the named rule for Basic Ingest, with topic() after the prefix', async () => {
    engine.putRule('BuildingManager', {
      sql: 'SELECT topic(3) AS floor, topic() AS t',
      awsIotSqlVersion: '2016-03-23',
      actions: [{ sqs: { queueUrl: QUEUE } }],
    });
    engine.putRule('other', {
      sql: "SELECT * FROM '#'",
      awsIotSqlVersion: '2016-03-23',
      actions: [{ sqs: { queueUrl: DLQ } }],
    });
    await bus.fromDevice('$aws/rules/BuildingManager/Buildings/Building5/Floor2/Room201/Lights', {});
    await engine.drain();
    expect(targets.sqs).toEqual([
      { queueUrl: QUEUE, body: '{"floor":"Floor2","t":"Buildings/Building5/Floor2/Room201/Lights"}' },
    ]);
  });

  it('runs rules on reserved topics named in FROM', async () => {
    engine.putRule('deltas', {
      sql: "SELECT state FROM '$aws/things/+/shadow/update/delta'",
      awsIotSqlVersion: '2016-03-23',
      actions: [{ sqs: { queueUrl: QUEUE } }],
    });
    await bus.publish({ topic: '$aws/things/t1/shadow/update/delta', payload: '{"state":{"on":true}}' });
    await engine.drain();
    expect(targets.sqs).toEqual([{ queueUrl: QUEUE, body: '{"state":{"on":true}}' }]);
  });

  it("tells the broker which topics its enabled rules' FROM clauses and Basic Ingest names select", () => {
    expect(bus.actsOn(topic)).toBe(false);
    engine.putRule('ingest', { ...INGEST_RULE, actions: [{ sqs: { queueUrl: QUEUE } }] });
    engine.putRule('deltas', {
      sql: "SELECT state FROM '$aws/things/+/shadow/update/delta'",
      awsIotSqlVersion: '2016-03-23',
      actions: [{ sqs: { queueUrl: QUEUE } }],
    });
    engine.putRule('off', {
      ...INGEST_RULE,
      sql: "SELECT * FROM 'off/#'",
      ruleDisabled: true,
      actions: [{ sqs: { queueUrl: QUEUE } }],
    });
    expect(bus.actsOn(topic)).toBe(true);
    expect(bus.actsOn('$aws/things/t1/shadow/update/delta')).toBe(true);
    expect(bus.actsOn('$aws/rules/ingest/any/topic')).toBe(true);
    expect(bus.actsOn('$aws/rules/ingest')).toBe(true);
    for (const other of [
      'dt/zonectl/hq/lobby/sensor-07/status',
      '$aws/things/t1/shadow/update/accepted',
      '$aws/rules/unknown/any/topic',
      '$aws/rules/off/x',
      'off/x',
    ]) {
      expect(bus.actsOn(other), other).toBe(false);
    }
    engine.deleteRule('ingest');
    expect(bus.actsOn(topic)).toBe(false);
  });

  it('does not block the publisher while a slow action runs, and starts actions in arrival order', async () => {
    targets.lambdaDelayMs = 30;
    engine.putRule('control', { ...CONTROL_RULE, actions: [{ lambda: { functionArn: FN_ARN } }] });
    const started = Date.now();
    for (const seq of [1, 2, 3]) await bus.fromDevice(topic, { v: 1, readings: [{ seq }] });
    expect(Date.now() - started).toBeLessThan(25);
    await engine.drain();
    expect(
      targets.lambda.map((c) => (c.payload as { readings: Array<{ seq: number }> }).readings[0]!.seq),
    ).toEqual([1, 2, 3]);
  });

  it('resolves a matched message only once its actions are done', async () => {
    targets.lambdaDelayMs = 50;
    engine.putRule('control', { ...CONTROL_RULE, actions: [{ lambda: { functionArn: FN_ARN } }] });
    await bus.fromDevice(topic, reading);
    const handled = bus.handled.at(-1)!;
    let done = false;
    void handled.then(() => {
      done = true;
    });
    await new Promise((r) => setTimeout(r, 10));
    expect(done).toBe(false);
    await handled;
    expect(targets.lambda).toHaveLength(1);
  });

  it('holds an action the full local disk refuses and runs it once there is room, without the errorAction', async () => {
    targets.diskFullSends = 1;
    engine.putRule('ingest', {
      ...INGEST_RULE,
      actions: [{ sqs: { queueUrl: QUEUE } }],
      errorAction: { sqs: { queueUrl: DLQ } },
    });
    await bus.fromDevice(topic, reading);
    await bus.handled.at(-1);
    expect(targets.sqs.map((m) => m.queueUrl)).toEqual([QUEUE]);
    expect(logger.lines.some((l) => l.includes('is held') && l.includes('ENOSPC'))).toBe(true);
  });

  it('stops a republish loop after 8 hops and reports it to the errorAction', async () => {
    engine.putRule('loop', {
      sql: "SELECT * FROM 'loop/#'",
      awsIotSqlVersion: '2016-03-23',
      actions: [{ republish: { topic: 'loop/again', qos: 0 } }],
      errorAction: { sqs: { queueUrl: DLQ } },
    });
    await bus.publish({ topic: 'loop/start', payload: '{"n":1}' });
    await vi.waitFor(() => expect(targets.sqs).toHaveLength(1));
    await engine.drain();
    expect(bus.published.filter((m) => m.topic === 'loop/again')).toHaveLength(8);
    const report = JSON.parse(targets.sqs[0]!.body) as { failures: Array<{ errorMessage: string }> };
    expect(report.failures[0]!.errorMessage).toMatch(/republish loop stopped: .* 8 times/);
  });

  it('fails putRule with SqlParseException, position and reason for unsupported SQL', () => {
    let caught: unknown;
    try {
      engine.putRule('bad', {
        sql: "SELECT frobnicate(*) AS r FROM 'a'",
        awsIotSqlVersion: '2016-03-23',
        actions: [],
      });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(AwsServiceError);
    expect(caught).toMatchObject({ code: 'SqlParseException', fields: { position: { offset: 7 } } });
    expect((caught as Error).message).toMatch(/rule bad: line 1:8.*unknown function frobnicate\(\)/);
  });

  it('fails putRule when the SQL version is omitted', () => {
    expect(() => engine.putRule('noversion', { sql: "SELECT * FROM 'a'", actions: [] })).toThrow(
      /2015-10-08/,
    );
  });

  it('fails putRule for an unsupported action, naming it', () => {
    expect(() =>
      engine.putRule('ts', {
        ...INGEST_RULE,
        actions: [{ timestream: { databaseName: 'd', tableName: 't' } }],
      }),
    ).toThrow(/timestream action/);
  });

  it('fails putRule for an invalid rule name', () => {
    expect(() => engine.putRule('has-hyphen', { ...INGEST_RULE, actions: [] })).toThrow(
      /rule name 'has-hyphen'/,
    );
  });

  it('fails putRule for a template that does not parse', () => {
    expect(() =>
      engine.putRule('tpl', { ...INGEST_RULE, actions: [{ republish: { topic: 'out/${topic(' } }] }),
    ).toThrow(/substitution template/);
  });

  it('stops listening to the bus when closed', async () => {
    await engine.close();
    expect(bus.subscriptionCount).toBe(0);
  });
});
