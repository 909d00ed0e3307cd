/**
 * External functions: each runs against the stand-in service it is given (as the local cloud
 * gives Lambda, the Device Shadow service, the registry and Secrets Manager), and a call that
 * fails fails the rule's SQL: no action and no errorAction, a log line instead, as AWS's
 * "Error handling (error action)" and get_dynamodb reference describe.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_IDENTITY } from '../../../local/common/account';
import { recordingLogger } from '../../../local/common/log';
import { createRulesService, type RuleActionTargets, type RulesService } from '../../../local/rules';
import { callExternal, type ExternalServices } from '../../../local/rules/sql';
import { FakeBus } from './fake-bus';
import { ACCOUNT, compile, message } from './helpers';

const FN = 'arn:aws:lambda:us-east-1:000000000000:function:enrich';
const ROLE = 'arn:aws:iam::000000000000:role/rules';

class Services implements ExternalServices {
  readonly calls: string[] = [];
  lambdaResult: { functionError?: string; payload: unknown } = { payload: { zone: 'lobby' } };
  lambdaDelayMs = 0;

  async invokeLambda(functionArn: string, payload: unknown) {
    this.calls.push(`lambda ${functionArn} ${JSON.stringify(payload)}`);
    if (this.lambdaDelayMs) await new Promise((r) => setTimeout(r, this.lambdaDelayMs));
    return this.lambdaResult;
  }

  async getThingShadow(thingName: string, shadowName: string | undefined) {
    this.calls.push(`shadow ${thingName} ${shadowName ?? '(classic)'}`);
    if (thingName === 'ghost') throw new Error('No shadow exists with name: ghost');
    return { state: { reported: { alarm: 'ON', setpoint: 21 } }, version: 3 };
  }

  async describeThing(thingName: string) {
    if (thingName !== 'sensor-1') throw new Error(`Thing ${thingName} cannot be found.`);
    return { thingName, attributes: { zone: 'lobby' }, version: 1 };
  }

  async listThingGroupsForThing() {
    return { thingGroups: [] };
  }

  async getSecretValue(secretId: string) {
    this.calls.push(`secret ${secretId}`);
    if (secretId === 'api') return { secretString: '{"API_KEY_VALUE":"s3cr3t","n":1}' };
    if (secretId === 'plain') return { secretString: 'just text' };
    if (secretId === 'blob') return { secretBinary: Buffer.from([1, 2, 3]) };
    throw new Error(`Secrets Manager can't find the specified secret: ${secretId}`);
  }
}

async function run(sql: string, payload: unknown, services: ExternalServices) {
  return compile(sql).evaluateAsync(message(payload), {
    accountId: ACCOUNT,
    external: (call) => callExternal(call, services, { lambdaTimeoutMs: 200 }),
  });
}

describe('external functions against local stand-ins', () => {
  it('aws_lambda(arn, *) passes the payload and returns the function result, addressable', async () => {
    const s = new Services();
    const r = await run(`SELECT aws_lambda("${FN}", *).zone AS zone FROM 'a/b/c'`, { t: 1 }, s);
    expect(r.output).toEqual({ zone: 'lobby' });
    expect(s.calls).toEqual([`lambda ${FN} {"t":1}`]);
  });

  it('aws_lambda with a nested object literal as input (AWS example)', async () => {
    const s = new Services();
    await run(
      `SELECT aws_lambda("${FN}", {"payload": attribute1}) AS output FROM 'a/b/c'`,
      { attribute1: 21 },
      s,
    );
    expect(s.calls).toEqual([`lambda ${FN} {"payload":21}`]);
  });

  it('fails the statement when the function fails, naming it and its error', async () => {
    const s = new Services();
    s.lambdaResult = {
      functionError: 'Unhandled',
      payload: { errorType: 'TypeError', errorMessage: 'boom' },
    };
    await expect(run(`SELECT aws_lambda("${FN}", *) AS o FROM 'a/b/c'`, {}, s)).rejects.toThrow(
      `aws_lambda(): ${FN} failed (Unhandled): TypeError: boom`,
    );
  });

  it('fails the statement when the function takes longer than its budget', async () => {
    const s = new Services();
    s.lambdaDelayMs = 1_000;
    await expect(run(`SELECT aws_lambda("${FN}", *) AS o FROM 'a/b/c'`, {}, s)).rejects.toThrow(
      /no answer within 200 ms/,
    );
  });

  it('get_thing_shadow in WHERE filters by the shadow (AWS examples, classic and named)', async () => {
    const s = new Services();
    const classic = await run(
      `SELECT * FROM 'a/b/c' WHERE get_thing_shadow("MyThing", "${ROLE}").state.reported.alarm = 'ON'`,
      { x: 1 },
      s,
    );
    expect(classic).toMatchObject({ matched: true, output: { x: 1 } });
    const named = await run(
      `SELECT * FROM 'a/b/c' WHERE get_thing_shadow("MyThing", "MyThingShadow", "${ROLE}").state.reported.alarm = 'OFF'`,
      {},
      s,
    );
    expect(named.matched).toBe(false);
    expect(s.calls).toEqual(['shadow MyThing (classic)', 'shadow MyThing MyThingShadow']);
  });

  it('get_registry_data returns DescribeThing and ListThingGroupsForThing answers', async () => {
    const s = new Services();
    const r = await run(
      `SELECT get_registry_data('DescribeThing', 'sensor-1', '${ROLE}').attributes.zone AS zone, get_registry_data('ListThingGroupsForThing', 'sensor-1', '${ROLE}') AS groups FROM 'a/b/c'`,
      {},
      s,
    );
    expect(r.output).toEqual({ zone: 'lobby', groups: { thingGroups: [] } });
    await expect(
      run(`SELECT get_registry_data('DescribeBilling', 'sensor-1', '${ROLE}') AS d FROM 'a/b/c'`, {}, s),
    ).rejects.toThrow(/registryAPI must be DescribeThing or ListThingGroupsForThing/);
  });

  it('get_secret reads a key, the whole JSON object, non-JSON text and binary as base64', async () => {
    const s = new Services();
    const r = await run(
      `SELECT get_secret('api', 'SecretString', 'API_KEY_VALUE', '${ROLE}') AS key, get_secret('api', 'SecretString', '${ROLE}') AS all, get_secret('plain', 'SecretString', '${ROLE}') AS text, get_secret('blob', 'SecretBinary', '${ROLE}') AS bin FROM 'a/b/c'`,
      {},
      s,
    );
    expect(r.output).toEqual({
      key: 's3cr3t',
      all: { API_KEY_VALUE: 's3cr3t', n: 1 },
      text: 'just text',
      bin: 'AQID',
    });
  });

  it('get_secret fails on a key of a non-JSON secret or of SecretBinary, as the reference says', async () => {
    const s = new Services();
    await expect(
      run(`SELECT get_secret('plain', 'SecretString', 'k', '${ROLE}') AS x FROM 'a/b/c'`, {}, s),
    ).rejects.toThrow(/not a JSON object/);
    await expect(
      run(`SELECT get_secret('blob', 'SecretBinary', 'k', '${ROLE}') AS x FROM 'a/b/c'`, {}, s),
    ).rejects.toThrow(/cannot be read from SecretBinary/);
  });

  it('fails the services the local cloud does not have, saying so', async () => {
    const s = new Services();
    await expect(run(`SELECT get_dynamodb('t', 'k', 1, '${ROLE}') AS d FROM 'a/b/c'`, {}, s)).rejects.toThrow(
      /get_dynamodb\(\): the local cloud has no DynamoDB/,
    );
    await expect(
      run(`SELECT machinelearning_predict('m', '${ROLE}', *) AS p FROM 'a/b/c'`, {}, s),
    ).rejects.toThrow(/no Amazon Machine Learning/);
    await expect(
      run("SELECT VALUE decode(*, 'proto', 'b', 'd.desc', 'f', 'M') FROM 'a/b/c'", {}, s),
    ).rejects.toThrow(/Amazon S3/);
    await expect(
      run(`SELECT get_secret('api', 'SecretString', '${ROLE}') AS x FROM 'a/b/c'`, {}, {}),
    ).rejects.toThrow(/no Secrets Manager/);
  });

  it('get_or_default turns a failed call into its default', async () => {
    const s = new Services();
    const r = await run(
      `SELECT get_or_default(get_thing_shadow('ghost', '${ROLE}').state, {"reported": {}}) AS state FROM 'a/b/c'`,
      {},
      s,
    );
    expect(r.output).toEqual({ state: { reported: {} } });
  });

  it('makes no call in a CASE branch that is not taken', async () => {
    const s = new Services();
    const r = await run(
      `SELECT CASE kind WHEN 'remote' THEN aws_lambda("${FN}", *) ELSE 'local' END AS r FROM 'a/b/c'`,
      { kind: 'here' },
      s,
    );
    expect(r.output).toEqual({ r: 'local' });
    expect(s.calls).toEqual([]);
  });

  it('refuses the synchronous evaluation of a statement that calls another service', () => {
    expect(() =>
      compile(`SELECT aws_lambda("${FN}", *) AS o FROM 'a/b/c'`).evaluate(message({}), {
        accountId: ACCOUNT,
      }),
    ).toThrow(/evaluated asynchronously/);
  });
});

describe('rules engine with external functions', () => {
  let bus: FakeBus;
  let engine: RulesService;
  let logger: ReturnType<typeof recordingLogger>;
  let services: Services;
  const sent: Array<{ queueUrl: string; body: string }> = [];
  const targets: RuleActionTargets = {
    invokeLambdaAsync: async () => {},
    sendSqsMessage: async (queueUrl, body) => {
      sent.push({ queueUrl, body });
    },
  };

  beforeEach(async () => {
    sent.length = 0;
    bus = new FakeBus();
    logger = recordingLogger();
    services = new Services();
    engine = await createRulesService({
      bus,
      identity: DEFAULT_IDENTITY,
      logger,
      targets,
      external: services,
    });
  });

  afterEach(async () => {
    await engine.close();
  });

  it('runs the actions with the enriched output, in arrival order', async () => {
    engine.putRule('enrich', {
      sql: `SELECT n, get_thing_shadow(topic(2), '${ROLE}').state.reported.setpoint AS setpoint FROM 'dt/+'`,
      awsIotSqlVersion: '2016-03-23',
      actions: [{ sqs: { queueUrl: 'q' } }],
    });
    services.lambdaDelayMs = 0;
    for (let n = 1; n <= 3; n++) await bus.fromDevice('dt/sensor-1', { n });
    await engine.drain();
    expect(sent.map((m) => JSON.parse(m.body))).toEqual([
      { n: 1, setpoint: 21 },
      { n: 2, setpoint: 21 },
      { n: 3, setpoint: 21 },
    ]);
  });

  it('runs neither the actions nor the errorAction when a call fails, and logs why', async () => {
    engine.putRule('enrich', {
      sql: `SELECT *, get_thing_shadow(topic(2), '${ROLE}') AS shadow FROM 'dt/+'`,
      awsIotSqlVersion: '2016-03-23',
      actions: [{ sqs: { queueUrl: 'q' } }],
      errorAction: { sqs: { queueUrl: 'errors' } },
    });
    await bus.fromDevice('dt/ghost', { n: 1 });
    await engine.drain();
    expect(sent).toEqual([]);
    expect(logger.lines.join('\n')).toMatch(
      /rule enrich: SQL evaluation failed for a message on dt\/ghost, so no action runs: ExternalFunctionError: get_thing_shadow\(\): No shadow exists with name: ghost/,
    );
  });

  it('fails an action into its errorAction when a call in its substitution template fails', async () => {
    engine.putRule('route', {
      sql: "SELECT * FROM 'dt/+'",
      awsIotSqlVersion: '2016-03-23',
      actions: [{ sqs: { queueUrl: `\${get_secret('missing', 'SecretString', '${ROLE}')}` } }],
      errorAction: { sqs: { queueUrl: 'errors' } },
    });
    await bus.fromDevice('dt/sensor-1', { n: 1 });
    await engine.drain();
    expect(sent.map((m) => m.queueUrl)).toEqual(['errors']);
    expect(JSON.parse(sent[0]!.body).failures[0]).toMatchObject({
      failedAction: 'SqsAction',
      errorMessage: expect.stringMatching(
        /get_secret\(\): Secrets Manager can't find the specified secret: missing/,
      ),
    });
  });
});
