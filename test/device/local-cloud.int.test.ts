/**
 * Onboarding and the agent against the local cloud (local/cloud.ts) on ephemeral ports. The
 * certificate, thing and the project's device policy are made through the IoT API as a deploy
 * would (no cdk synth here, to stay fast), and the stack outputs file is written the way the
 * local deployer does.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
import {
  buildingStackName,
  COMMAND_SHADOW_NAME,
  certificateOutputKey,
  csrFileName,
  localClientConfig,
  STACK_OUTPUTS_FILE,
} from '../../contracts';
import { type Agent, runAgent } from '../../device/agent';
import { simulatedActuators } from '../../device/drivers';
import { type LocalCloud, startLocalCloud } from '../../local/cloud';
import { silentLogger } from '../../local/common/log';
import { finishOnboarding, revokeDevice, startOnboarding, targetFor } from '../../provisioning/onboard';
import { provesAbsenceFor } from '../helpers/absence';
import { devicePolicy } from '../helpers/device-policy';

const THING = 'hq-meeta-room';
let root: string;
let cloud: LocalCloud | undefined;
let agent: Agent | undefined;
const lines: string[] = [];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'device-local-'));
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

describe('device on the local cloud', () => {
  it('onboards, connects, follows a desired change and is stopped by revocation', async () => {
    if (!cloud) throw new Error('local cloud did not start');
    const stateDir = join(root, 'state');
    const devicesDir = join(root, 'devices');
    const csrDir = join(root, 'csr');
    await startOnboarding({ thing: THING, configPath: 'building.json', csrDir, devicesDir });

    const iot = new IoTClient(localClientConfig(cloud.endpoints));
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
        policyDocument: JSON.stringify(devicePolicy(cloud.identity)),
      }),
    );
    await iot.send(new AttachPolicyCommand({ policyName: 'device-test', target: cert.certificateArn! }));
    iot.destroy();
    writeFileSync(
      join(stateDir, STACK_OUTPUTS_FILE),
      JSON.stringify({ [buildingStackName('hq')]: { [certificateOutputKey(THING)]: cert.certificateId } }),
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
    await expect.poll(() => agent!.stats().online, { timeout: 15_000, message: 'connect' }).toBe(true);

    const data = new IoTDataPlaneClient(localClientConfig(cloud.endpoints));
    await data.send(
      new UpdateThingShadowCommand({
        thingName: THING,
        shadowName: COMMAND_SHADOW_NAME,
        payload: Buffer.from(JSON.stringify({ state: { desired: { heating: 'on', lighting: 250 } } })),
      }),
    );
    data.destroy();
    await expect
      .poll(() => actuators.state().heating === 'on', { timeout: 10_000, message: 'heating applied' })
      .toBe(true);
    await expect
      .poll(() => agent!.stats().rejected.lighting !== undefined, {
        timeout: 10_000,
        message: 'lighting refused',
      })
      .toBe(true);
    expect(actuators.state().lighting).toBe(0);

    await revokeDevice({ thing: THING, devicesDir, target });
    target.iot.destroy();
    await expect
      .poll(() => !agent!.stats().online, { timeout: 15_000, message: 'disconnect after revocation' })
      .toBe(true);
    await provesAbsenceFor(1500, 'the revoked agent connecting again');
    expect(agent.stats().online).toBe(false);
    expect(lines.some((l) => /refused|TLS handshake/.test(l))).toBe(true);
  });
});
