/**
 * SQL external functions in the whole local cloud: get_thing_shadow reads the Device Shadow
 * service, get_registry_data the IoT registry and aws_lambda invokes a deployed function;
 * the rule republishes what they returned.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { type LocalCloud, startLocalCloud } from '../../../local/cloud';
import { silentLogger } from '../../../local/common/log';
import { bundleFixture, HANDLERS } from '../lambda/bundle';

let dir: string;
let asset: string;
let cloud: LocalCloud;
const ROLE = 'arn:aws:iam::000000000000:role/rules';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'zonectl-rules-external-'));
  asset = await bundleFixture(HANDLERS, 'cjs');
  cloud = await startLocalCloud({ stateDir: dir, mqttPort: 0, apiPort: 0, logger: silentLogger });
  cloud.iot.registry.createThing({ thingName: 'sensor-1', attributes: { zone: 'lobby' } });
  await cloud.shadow.api.update('sensor-1', 'commands', { state: { reported: { heating: 'on' } } });
  await cloud.lambda.createFunction({
    functionName: 'enrich',
    arn: 'arn:aws:lambda:us-east-1:000000000000:function:enrich',
    codeDir: asset,
    handler: 'index.counter',
    runtime: 'nodejs22.x',
  });
});

afterAll(async () => {
  await cloud?.close();
  rmSync(dir, { recursive: true, force: true });
  rmSync(asset, { recursive: true, force: true });
});

it('answers get_thing_shadow, get_registry_data and aws_lambda from the local services', async () => {
  cloud.rules.putRule('enrich', {
    sql:
      `SELECT get_thing_shadow(topic(2), 'commands', '${ROLE}').state.reported.heating AS heating, ` +
      `get_registry_data('DescribeThing', topic(2), '${ROLE}').attributes.zone AS zone, ` +
      `aws_lambda('arn:aws:lambda:us-east-1:000000000000:function:enrich', *).context.functionName AS fn ` +
      "FROM 'in/+'",
    awsIotSqlVersion: '2016-03-23',
    actions: [{ republish: { topic: 'out/${topic(2)}', roleArn: ROLE } }],
  });
  const received: unknown[] = [];
  const unsubscribe = cloud.broker.subscribe('out/#', (m) => {
    received.push(JSON.parse(m.payload.toString('utf8')));
  });
  try {
    await cloud.broker.publish({ topic: 'in/sensor-1', payload: '{"t":21}', qos: 1 });
    await vi.waitFor(() => expect(received).toEqual([{ heating: 'on', zone: 'lobby', fn: 'enrich' }]), {
      timeout: 20_000,
    });
  } finally {
    unsubscribe();
  }
});
