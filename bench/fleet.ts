/**
 * Devices for the bench, provisioned in the in-process local cloud the way a deploy and
 * `zonectl onboard --finish` would: a thing with its building/zone/kind attributes, an ECC
 * P-256 key and CSR made here, a certificate signed from the CSR by the local CA, the
 * deployed device policy, and a device bundle pointing at the local broker.
 */

import { readFileSync } from 'node:fs';
import {
  type BuildingConfig,
  type DevicePlacement,
  devicePolicyDocument,
  devicesOf,
  thingAttributesOf,
} from '../contracts';
import { generateKeyAndCsr } from '../contracts/pki';
import type { DeviceBundle } from '../device/bundle';
import type { LocalCloud } from '../local/cloud';
import { arn } from '../local/common/account';
import { deviceBundle } from '../provisioning/device-bundle';

export const BENCH_POLICY_NAME = 'zonectl-bench-device';

/** The building's devices, repeated with numbered thing names until there are `n`. */
export function fleet(config: BuildingConfig, n: number): DevicePlacement[] {
  const templates = devicesOf(config);
  if (templates.length === 0) throw new Error('building.json has no devices to copy');
  return Array.from({ length: n }, (_, i) => {
    const t = templates[i % templates.length] as DevicePlacement;
    return { ...t, thing: `bench-${String(i).padStart(3, '0')}-${t.thing}` };
  });
}

/**
 * Registers the devices through the cloud's in-process registry and returns their bundles.
 * Creates the bench device policy on first use.
 */
export async function provisionDevices(
  cloud: LocalCloud,
  config: BuildingConfig,
  devices: readonly DevicePlacement[],
): Promise<DeviceBundle[]> {
  const registry = cloud.iot.registry;
  try {
    registry.getPolicy(BENCH_POLICY_NAME);
  } catch {
    const document = devicePolicyDocument((resource) => arn(cloud.identity, 'iot', resource));
    registry.createPolicy(BENCH_POLICY_NAME, JSON.stringify(document));
  }
  const caPem = readFileSync(cloud.endpoints.caFile, 'utf8');
  const bundles: DeviceBundle[] = [];
  for (const device of devices) {
    registry.createThing({
      thingName: device.thing,
      attributes: thingAttributesOf(device),
    });
    const keys = await generateKeyAndCsr(device.thing);
    const cert = await registry.createCertificateFromCsr(keys.csrPem, true);
    registry.attachPolicy(BENCH_POLICY_NAME, cert.certificateArn);
    registry.attachThingPrincipal(device.thing, cert.certificateArn);
    bundles.push(
      deviceBundle({
        device,
        config,
        target: 'local',
        // the broker listens on 127.0.0.1; its certificate names both localhost and 127.0.0.1
        endpoint: { host: '127.0.0.1', port: cloud.endpoints.mqttPort },
        certificateId: cert.certificateId,
        certificatePem: cert.certificatePem,
        privateKeyPem: keys.privateKeyPem,
        caPem,
        region: cloud.identity.region,
      }),
    );
  }
  return bundles;
}
