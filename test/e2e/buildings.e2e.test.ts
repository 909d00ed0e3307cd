import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetThingShadowCommand, IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { QueryCommand, TimestreamQueryClient } from '@aws-sdk/client-timestream-query';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildingStackName, CONTEXT, localClientConfig, STACK_OUTPUT, telemetryTopic } from '../../contracts';
import { type Agent, runAgent } from '../../device/agent';
import { loadBundle } from '../../device/bundle';
import { loadClaim } from '../../device/provision';
import { type LocalCloud, startLocalCloud } from '../../local/cloud';
import { recordingLogger } from '../../local/common/log';
import { createClaim } from '../../provisioning/claims';
import { provisionFirstBoot } from '../../provisioning/first-boot';
import { targetFor } from '../../provisioning/onboard';
import { provesAbsenceFor } from '../helpers/absence';
import { REPO_ROOT } from './helpers/assembly';
import { sampleSpaced, scriptedTemperature } from './helpers/drivers';

/**
 * Two buildings in one account, deployed side by side from one cloud assembly
 * (`-c zonectl:buildingConfig=hq.json,site-b.json`): each building's readings, controller and
 * dead letters stay its own.
 */

const root = mkdtempSync(join(tmpdir(), 'zonectl-buildings-e2e-'));
const logger = recordingLogger();
let cloud: LocalCloud;
const agents: Agent[] = [];
let outputs: Record<string, Record<string, string>>;

function synth(configs: string[], outdir: string): Promise<void> {
  const cdkJson = JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context: object };
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/app.ts'], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      ...process.env,
      CDK_OUTDIR: outdir,
      CDK_CONTEXT_JSON: JSON.stringify({ ...cdkJson.context, [CONTEXT.buildingConfig]: configs.join(',') }),
    },
  });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  return new Promise((resolve, reject) =>
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`synth failed: ${stderr.slice(-2000)}`)),
    ),
  );
}

async function provisioned(configPath: string, building: string, things: string[]): Promise<void> {
  const target = targetFor({ local: true, stateDir: join(root, 'state') });
  try {
    await createClaim({ configPath, claimDir: join(root, `claim-${building}`), target });
  } finally {
    target.iot.destroy();
  }
  const claim = loadClaim(join(root, `claim-${building}`));
  for (const thing of things) await provisionFirstBoot({ thing, claim, devicesDir: join(root, 'devices') });
}

beforeAll(async () => {
  const hq = JSON.parse(readFileSync(join(REPO_ROOT, 'building.json'), 'utf8'));
  hq.provisioning = 'fleet';
  const siteB = structuredClone(hq);
  siteB.buildingId = 'site-b';
  siteB.name = 'Site B';
  for (const zone of siteB.zones) {
    for (const device of zone.devices) device.thing = device.thing.replace(/^hq-/, 'site-b-');
  }
  writeFileSync(join(root, 'hq.json'), JSON.stringify(hq));
  writeFileSync(join(root, 'site-b.json'), JSON.stringify(siteB));
  await synth([join(root, 'hq.json'), join(root, 'site-b.json')], join(root, 'cdk.out'));
  cloud = await startLocalCloud({ stateDir: join(root, 'state'), mqttPort: 0, apiPort: 0, logger });
  outputs = (await cloud.deploy(join(root, 'cdk.out'))).outputs as typeof outputs;
  await provisioned(join(root, 'hq.json'), 'hq', ['hq-lobby-hvac']);
  await provisioned(join(root, 'site-b.json'), 'site-b', ['site-b-lobby-climate', 'site-b-lobby-hvac']);
}, 170_000);

afterAll(async () => {
  for (const agent of agents) await agent.stop();
  await cloud?.close();
  rmSync(root, { recursive: true, force: true });
});

const output = (building: string, key: string) => outputs[buildingStackName(building)]![key]!;

describe('two buildings in one account', () => {
  it("scopes each building's rules to its own topic filter", () => {
    const rules = cloud.rules.listRules().map((r) => [r.ruleName, (r as { sql?: string }).sql ?? '']);
    expect(rules.length).toBe(4);
    for (const [name, sql] of rules) {
      const building = name!.includes('site_b') ? 'site-b' : 'hq';
      expect(sql).toContain(`FROM 'dt/zonectl/${building}/+/+/readings'`);
    }
  });

  it("stores a site-b reading only in site-b's table and commands only site-b's actuators", async () => {
    const sensor = scriptedTemperature(12, 0);
    const bundle = loadBundle(join(root, 'devices', 'site-b-lobby-climate', 'bundle.json'));
    const agent = await runAgent(bundle, {
      dataDir: join(root, 'agent-data'),
      sensors: [sensor],
      endpoint: { host: '127.0.0.1', port: cloud.endpoints.mqttPort },
      sampleOnStart: false,
      log: () => undefined,
    });
    agents.push(agent);
    await expect.poll(() => agent.stats().online, { timeout: 15_000 }).toBe(true);
    await sampleSpaced(agent, 3);
    await agent.flush(5_000);
    const query = new TimestreamQueryClient(localClientConfig(cloud.endpoints));
    const data = new IoTDataPlaneClient(localClientConfig(cloud.endpoints));
    try {
      const count = async (building: string) => {
        const out = await query.send(
          new QueryCommand({
            QueryString: `SELECT count(*) FROM "${output(building, STACK_OUTPUT.timestreamDatabase)}"."${output(building, STACK_OUTPUT.timestreamTable)}"`,
          }),
        );
        return Number(out.Rows?.[0]?.Data?.[0]?.ScalarValue ?? 0);
      };
      const published = agent.stats().published;
      expect(published).toBeGreaterThan(0);
      await expect.poll(() => count('site-b'), { timeout: 30_000 }).toBe(published);
      const shadow = async (thing: string) => {
        try {
          const out = await data.send(
            new GetThingShadowCommand({ thingName: thing, shadowName: 'commands' }),
          );
          return JSON.parse(new TextDecoder().decode(out.payload)) as {
            state?: { desired?: { heating?: string } };
          };
        } catch {
          return undefined;
        }
      };
      await expect
        .poll(async () => (await shadow('site-b-lobby-hvac'))?.state?.desired?.heating, { timeout: 30_000 })
        .toBe('on');
      await provesAbsenceFor(2_000, 'the hq pipeline storing or acting on the site-b reading');
      expect(await count('hq')).toBe(0);
      expect((await shadow('hq-lobby-hvac'))?.state?.desired?.heating).toBeUndefined();
    } finally {
      query.destroy();
      data.destroy();
    }
  }, 90_000);

  it("dead-letters a reading of another building that reached a building's ingest queue", async () => {
    const sqs = new SQSClient(localClientConfig(cloud.endpoints));
    try {
      const published = { v: 1, readings: [{ ts: Date.now(), seq: 1, temperature: 21 }] };
      const misrouted = {
        base64Payload: Buffer.from(JSON.stringify(published)).toString('base64'),
        building: 'hq',
        zone: 'lobby',
        thing: 'hq-lobby-climate',
        clientId: 'hq-lobby-climate',
        receivedAt: Date.now(),
      };
      expect(telemetryTopic(misrouted)).toContain('/hq/');
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: output('site-b', STACK_OUTPUT.ingestQueueUrl),
          MessageBody: JSON.stringify(misrouted),
        }),
      );
      const dlq = output('site-b', STACK_OUTPUT.deadLetterQueueUrl);
      await expect
        .poll(
          async () => {
            const got = await sqs.send(
              new ReceiveMessageCommand({ QueueUrl: dlq, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
            );
            return (got.Messages ?? []).map(
              (m) => JSON.parse(m.Body ?? '{}') as { code?: string; reason?: string },
            );
          },
          { timeout: 30_000 },
        )
        .toContainEqual(
          expect.objectContaining({
            code: 'FOREIGN_BUILDING',
            reason: expect.stringContaining("building 'hq'"),
          }),
        );
    } finally {
      sqs.destroy();
    }
  });
});
