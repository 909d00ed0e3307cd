/**
 * The device bundle onboarding writes for a thing of the building (see device/bundle.ts for
 * the format): its place in the building, its certificate and key, the broker to connect to
 * and the fallback safety limits from the building's comfort policy.
 */
import {
  type BuildingConfig,
  type DevicePlacement,
  fallbackSafetyOf,
  type ProvisionedDevice,
} from '../contracts';
import {
  BUNDLE_VERSION,
  type DeviceBundle,
  defaultTopics,
  parseBundle,
  type SafetyLimits,
} from '../device/bundle';
import type { Claim } from '../device/provision';

/** The fallback safety limits a device bundle carries, from the building's comfort policy. */
export function safetyOf(config: BuildingConfig): SafetyLimits {
  return fallbackSafetyOf(config.comfort);
}

export interface BundleInput {
  readonly device: DevicePlacement;
  readonly config: BuildingConfig;
  /** Where the certificate was issued. */
  readonly target: 'aws' | 'local';
  readonly endpoint: { readonly host: string; readonly port: number };
  readonly certificateId: string;
  readonly certificatePem: string;
  readonly privateKeyPem: string;
  /** The CA the device trusts for the broker's server certificate. */
  readonly caPem: string;
  readonly region?: string;
  readonly createdAt?: string;
}

/** A validated bundle for the device; the thing name is its MQTT client id. */
export function deviceBundle(input: BundleInput): DeviceBundle {
  const { device } = input;
  return parseBundle({
    v: BUNDLE_VERSION,
    target: input.target,
    thing: device.thing,
    clientId: device.thing,
    building: device.building,
    zone: device.zone,
    senses: device.senses,
    drives: device.drives,
    endpoint: { host: input.endpoint.host, port: input.endpoint.port },
    topics: defaultTopics(device),
    certificateId: input.certificateId,
    certificatePem: input.certificatePem,
    privateKeyPem: input.privateKeyPem,
    caPem: input.caPem,
    safety: safetyOf(input.config),
    region: input.region,
    createdAt: input.createdAt,
  });
}

/**
 * The bundle of a device that provisioned itself with a claim: its place and kinds from the
 * device configuration RegisterThing returned, the broker and CA from the claim. The same
 * format as `deviceBundle`, so `zonectl device run` works the same.
 */
export function provisionedBundle(input: {
  readonly thing: string;
  readonly device: ProvisionedDevice;
  readonly claim: Claim;
  readonly certificateId: string;
  readonly certificatePem: string;
  readonly privateKeyPem: string;
  readonly createdAt?: string;
}): DeviceBundle {
  const { device, claim } = input;
  const address = { building: device.building, zone: device.zone, thing: input.thing };
  return parseBundle({
    v: BUNDLE_VERSION,
    target: claim.target,
    thing: input.thing,
    clientId: input.thing,
    building: device.building,
    zone: device.zone,
    senses: device.senses,
    drives: device.drives,
    endpoint: { host: claim.endpoint.host, port: claim.endpoint.port },
    topics: { ...defaultTopics(address), commandShadow: device.commandShadow },
    certificateId: input.certificateId,
    certificatePem: input.certificatePem,
    privateKeyPem: input.privateKeyPem,
    caPem: claim.caPem,
    safety: device.safety,
    region: claim.region,
    createdAt: input.createdAt,
  });
}
