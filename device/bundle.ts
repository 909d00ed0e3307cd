/**
 * The device bundle: one JSON file holding everything a device needs to connect and behave,
 * written by `zonectl onboard <thing> --finish` and read by the agent. It contains the private
 * key, so it is written with mode 0600 and must be copied to the device over a secure channel.
 */
import { readFileSync, statSync } from 'node:fs';
import { z } from 'zod';
import {
  ACTUATOR_KINDS,
  COMMAND_SHADOW_NAME,
  describeIssues,
  SENSOR_KINDS,
  telemetryTopic,
} from '../contracts';
import { BundleError } from './bundle-error';

export const BUNDLE_VERSION = 1;

const pem = (label: string) =>
  z.string().regex(new RegExp(`-----BEGIN [A-Z ]*${label}-----`), { message: `a PEM ${label}` });

/** Safe limits the fallback loop keeps when the cloud is away (from the building's comfort policy). */
export const SafetyLimitsSchema = z
  .object({
    /** Heating is forced on below this temperature (degC), e.g. the unoccupied setpoint. */
    minTemperature: z.number(),
    /** Heating is forced off above this temperature (degC), e.g. occupied setpoint + comfort band. */
    maxTemperature: z.number(),
    /** Hysteresis half-width in degC around both temperature limits. */
    temperatureHysteresis: z.number().min(0),
    /** Ventilation runs at least low above this CO2 (ppm). */
    co2Limit: z.number(),
    /** Ventilation runs high above this CO2 (ppm). */
    co2HighLimit: z.number(),
  })
  .strict();
export type SafetyLimits = z.output<typeof SafetyLimitsSchema>;

export const DeviceBundleSchema = z
  .object({
    v: z.literal(BUNDLE_VERSION, { message: `bundle format version ${BUNDLE_VERSION}` }),
    /** 'aws' or 'local': where the certificate was issued; informational. */
    target: z.enum(['aws', 'local']),
    thing: z.string().min(1),
    /** MQTT client id; the IoT policy ties it to the thing name. */
    clientId: z.string().min(1),
    building: z.string().min(1),
    zone: z.string().min(1),
    senses: z.array(z.enum(SENSOR_KINDS)),
    drives: z.array(z.enum(ACTUATOR_KINDS)),
    endpoint: z.object({ host: z.string().min(1), port: z.number().int().min(1).max(65535) }).strict(),
    topics: z.object({ telemetry: z.string().min(1), commandShadow: z.string().min(1) }).strict(),
    certificateId: z.string().min(1),
    certificatePem: pem('CERTIFICATE'),
    privateKeyPem: pem('PRIVATE KEY'),
    /** The CA(s) the device trusts for the broker's server certificate. */
    caPem: pem('CERTIFICATE'),
    safety: SafetyLimitsSchema.optional(),
    region: z.string().optional(),
    createdAt: z.string().optional(),
  })
  .strict();

export type DeviceBundle = z.output<typeof DeviceBundleSchema>;

export { BundleError } from './bundle-error';

export function parseBundle(input: unknown, source = 'bundle.json'): DeviceBundle {
  const parsed = DeviceBundleSchema.safeParse(input);
  if (!parsed.success) {
    throw new BundleError(
      `invalid device bundle ${source}:\n${describeIssues(parsed.error, input, 'bundle')
        .map((l) => `  - ${l}`)
        .join('\n')}\nRun \`zonectl onboard <thing> --finish\` again to write a fresh bundle.`,
    );
  }
  const b = parsed.data;
  const expected = telemetryTopic({ building: b.building, zone: b.zone, thing: b.thing });
  if (b.topics.telemetry !== expected) {
    throw new BundleError(
      `device bundle ${source}: telemetry topic ${b.topics.telemetry} should be ${expected}`,
    );
  }
  return b;
}

/** Reads and validates a bundle file; says what to do when it is missing or unreadable. */
export function loadBundle(path: string): DeviceBundle {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new BundleError(
        `no device bundle at ${path}: run \`zonectl onboard <thing>\`, deploy, then \`zonectl onboard <thing> --finish\``,
      );
    }
    throw new BundleError(`cannot read device bundle ${path}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new BundleError(`device bundle ${path} is not valid JSON (${(err as Error).message})`);
  }
  return parseBundle(json, path);
}

/** True when a file can be read by users other than its owner (a bundle holds a private key). */
export function isWorldReadable(path: string): boolean {
  try {
    return (statSync(path).mode & 0o077) !== 0;
  } catch {
    return false;
  }
}

export const defaultTopics = (address: { building: string; zone: string; thing: string }) => ({
  telemetry: telemetryTopic(address),
  commandShadow: COMMAND_SHADOW_NAME,
});
