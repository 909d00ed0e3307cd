/**
 * The device bundle onboarding writes for a thing of the building (see device/bundle.ts for
 * the format): its place in the building, its certificate and key, the broker to connect to
 * and the fallback safety limits from the building's comfort policy.
 */
import { type BuildingConfig, type DevicePlacement, fallbackSafetyOf } from '../contracts';
import {
  BUNDLE_VERSION,
  type DeviceBundle,
  defaultTopics,
  parseBundle,
  type SafetyLimits,
} from '../device/bundle';

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
