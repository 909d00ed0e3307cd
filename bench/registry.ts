/**
 * What one device's provisioning costs the local IoT registry, early and late in a fleet:
 * `fleetSize` devices provisioned one after another through the `iot` API over HTTP (SDK v3)
 * the way an operator's onboarding does (CreateThing, CreateCertificateFromCsr, AttachPolicy,
 * AttachThingPrincipal), each call answered only once its change is on disk. The CSRs are made
 * before the clock starts, so the figure is the registry's, not the key generation's. A store
 * whose change cost grows with the fleet shows a late figure well above the early one.
 */
import {
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CreateCertificateFromCsrCommand,
  CreatePolicyCommand,
  CreateThingCommand,
  IoTClient,
} from '@aws-sdk/client-iot';
import { devicePolicyDocument, localClientConfig } from '../contracts';
import { generateKeyAndCsr } from '../contracts/pki';
import { arn } from '../local/common/account';
import { startBenchCloud } from './cloud';
import { type Metric, median } from './report';

export interface RegistryBenchOptions {
  /** Devices in the fleet; default 2,000. */
  readonly fleetSize: number;
  /** Devices whose cost is measured at each end; default 50. */
  readonly window: number;
  readonly progress?: (line: string) => void;
}

export async function registryMetrics(o: RegistryBenchOptions): Promise<Metric[]> {
  const bench = await startBenchCloud('registry');
  const client = new IoTClient({ ...localClientConfig(bench.cloud.endpoints), maxAttempts: 1 });
  try {
    const policyName = 'zonectl-bench-registry';
    await client.send(
      new CreatePolicyCommand({
        policyName,
        policyDocument: JSON.stringify(devicePolicyDocument((r) => arn(bench.cloud.identity, 'iot', r))),
      }),
    );
    o.progress?.(`making ${o.fleetSize} CSRs`);
    const csrs: string[] = [];
    for (let i = 0; i < o.fleetSize; i++) csrs.push((await generateKeyAndCsr(`fleet-${i}`)).csrPem);
    const perDevice: number[] = [];
    const started = Date.now();
    for (let i = 0; i < o.fleetSize; i++) {
      const thingName = `fleet-${String(i).padStart(5, '0')}`;
      const t0 = performance.now();
      await client.send(
        new CreateThingCommand({ thingName, attributePayload: { attributes: { zone: 'z' } } }),
      );
      const cert = await client.send(
        new CreateCertificateFromCsrCommand({ certificateSigningRequest: csrs[i], setAsActive: true }),
      );
      await client.send(new AttachPolicyCommand({ policyName, target: cert.certificateArn }));
      await client.send(new AttachThingPrincipalCommand({ thingName, principal: cert.certificateArn }));
      perDevice.push(performance.now() - t0);
      if ((i + 1) % 500 === 0) o.progress?.(`${i + 1} devices provisioned`);
    }
    const seconds = (Date.now() - started) / 1000;
    const early = median(perDevice.slice(0, o.window));
    const late = median(perDevice.slice(-o.window));
    return [
      {
        id: 'registry.earlyMsPerDevice',
        metric: `provisioning, devices 1-${o.window}`,
        value: early,
        unit: 'ms/device',
        note: 'median; CreateThing + CreateCertificateFromCsr + AttachPolicy + AttachThingPrincipal over HTTP',
      },
      {
        id: 'registry.lateMsPerDevice',
        metric: `provisioning, last ${o.window} of ${o.fleetSize.toLocaleString('en-US')}`,
        value: late,
        unit: 'ms/device',
        note: `median; ${(late / early).toFixed(2)}x the early figure; ${o.fleetSize.toLocaleString('en-US')} devices in ${seconds.toFixed(1)} s`,
      },
    ];
  } finally {
    client.destroy();
    await bench.close();
  }
}
