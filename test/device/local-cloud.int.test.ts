/**
 * Onboarding and the agent against the local cloud (local/cloud.ts) on ephemeral ports. The
 * certificate, thing and policy are made through the IoT API as a deploy would (no cdk synth
 * here, to stay fast), and the stack outputs file is written the way the local deployer does.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CreateCertificateFromCsrCommand,
  CreatePolicyCommand,
  CreateThingCommand,
  IoTClient,
} from '@aws-sdk/client-iot';
import { IoTDataPlaneClient, UpdateThingShadowCommand } from '@aws-sdk/client-iot-data-plane';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finishOnboarding, revokeDevice, startOnboarding, targetFor } from '../../cli/onboarding/onboard';
import { COMMAND_SHADOW_NAME, certificateOutputKey, csrFileName } from '../../contracts';
import { type Agent, runAgent } from '../../device/agent';
import { simulatedActuators } from '../../device/drivers';
import { waitFor } from './support/bundle';

/** The local cloud's entry; loaded by path so this file type-checks before it exists. */
const CLOUD_MODULE = '../../local/cloud.ts';
const hasCloud = existsSync(new URL(CLOUD_MODULE, import.meta.url));

interface LocalCloudLike {
  readonly endpoints: {
    mqttHost: string;
    mqttPort: number;
    apiEndpoint: string;
    caFile: string;
    region: string;
  };
  close(): Promise<void>;
}

const THING = 'hq-meeta-room';
let root: string;
let cloud: LocalCloudLike | undefined;
let agent: Agent | undefined;
const lines: string[] = [];
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'device-local-'));
  if (!hasCloud) return;
  const { startLocalCloud } = (await import(/* @vite-ignore */ CLOUD_MODULE)) as {
    startLocalCloud(o: object): Promise<LocalCloudLike>;
  };
  const { silentLogger } = (await import('../../local/common/log')) as { silentLogger: unknown };
  cloud = await startLocalCloud({
    stateDir: join(root, 'state'),
    mqttPort: 0,
    apiPort: 0,
    logger: silentLogger,
  });
});

afterAll(async () => {
  await agent?.stop();
  await cloud?.close();
  rmSync(root, { recursive: true, force: true });
});

describe.skipIf(!hasCloud)('device on the local cloud', () => {
  it('onboards, connects, follows a desired change and is stopped by revocation', async () => {
    if (!cloud) throw new Error('local cloud did not start');
    const stateDir = join(root, 'state');
    writeFileSync(join(stateDir, 'endpoints.json'), JSON.stringify(cloud.endpoints));
    const devicesDir = join(root, 'devices');
    const csrDir = join(root, 'csr');
    await startOnboarding({ thing: THING, configPath: 'building.json', csrDir, devicesDir });

    const iot = new IoTClient({
      endpoint: cloud.endpoints.apiEndpoint,
      region: cloud.endpoints.region,
      credentials,
    });
    const cert = await iot.send(
      new CreateCertificateFromCsrCommand({
        certificateSigningRequest: readFileSync(join(csrDir, csrFileName(THING)), 'utf8'),
        setAsActive: true,
      }),
    );
    await iot.send(
      new CreateThingCommand({
        thingName: THING,
        attributePayload: { attributes: { building: 'hq', zone: 'meeting-a' } },
      }),
    );
    await iot.send(new AttachThingPrincipalCommand({ thingName: THING, principal: cert.certificateArn! }));
    await iot.send(
      new CreatePolicyCommand({
        policyName: 'device-test',
        policyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 'iot:*', Resource: '*' }],
        }),
      }),
    );
    await iot.send(new AttachPolicyCommand({ policyName: 'device-test', target: cert.certificateArn! }));
    iot.destroy();
    writeFileSync(
      join(stateDir, 'stack-outputs.json'),
      JSON.stringify({ 'Zonectl-hq': { [certificateOutputKey(THING)]: cert.certificateId } }),
    );

    const target = targetFor({ local: true, stateDir });
    const finished = await finishOnboarding({
      thing: THING,
      configPath: 'building.json',
      devicesDir,
      target,
    });
    const bundle = JSON.parse(readFileSync(finished.bundlePath, 'utf8'));
    const actuators = simulatedActuators(bundle.drives);
    agent = await runAgent(bundle, {
      dataDir: join(root, 'data'),
      actuators: [actuators],
      link: { minBackoffMs: 100, maxBackoffMs: 500, stableAfterMs: 200 },
      log: (l) => lines.push(l),
    });
    await waitFor(() => agent!.stats().online, 15_000, 'connect');

    const data = new IoTDataPlaneClient({
      endpoint: cloud.endpoints.apiEndpoint,
      region: cloud.endpoints.region,
      credentials,
    });
    await data.send(
      new UpdateThingShadowCommand({
        thingName: THING,
        shadowName: COMMAND_SHADOW_NAME,
        payload: Buffer.from(JSON.stringify({ state: { desired: { heating: 'on', lighting: 250 } } })),
      }),
    );
    data.destroy();
    await waitFor(() => actuators.state().heating === 'on', 10_000, 'heating applied');
    await waitFor(() => agent!.stats().rejected.lighting !== undefined, 10_000, 'lighting refused');
    expect(actuators.state().lighting).toBe(0);

    await revokeDevice({ thing: THING, devicesDir, target });
    target.iot.destroy();
    await waitFor(() => !agent!.stats().online, 15_000, 'disconnect after revocation');
    await new Promise((r) => setTimeout(r, 1500));
    expect(agent.stats().online).toBe(false);
    expect(lines.some((l) => /refused|TLS handshake/.test(l))).toBe(true);
  });
});
