import { z } from 'zod';
import { BuildingConfigError } from './errors';
import { ID_PATTERN, THING_NAME_PATTERN } from './ids';
import { ACTUATOR_KINDS, type ActuatorKind, SENSOR_KINDS, type SensorKind } from './measures';
import { StorageSchema } from './storage';
import type { ThingKind } from './thing-attributes';
import { describeIssues } from './validation';
import { WEEKDAYS } from './weekdays';

export { BuildingConfigError } from './errors';
export { WEEKDAYS, type Weekday } from './weekdays';

/**
 * The building config: the one human-edited file that says what a building holds and how
 * comfortable it must be. `cdk synth`, onboarding, the local cloud and the simulation read it.
 */

const id = (what: string) =>
  z.string().regex(ID_PATTERN, {
    message: `a ${what} id of lower-case letters, digits and '-', 1-32 characters, not starting or ending with '-'`,
  });

const hhmm = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, { message: 'a time of day as HH:MM (00:00-23:59)' });

const ScheduleEntrySchema = z
  .object({
    days: z.array(z.enum(WEEKDAYS, { message: `one of ${WEEKDAYS.join(', ')}` })).min(1),
    from: hhmm,
    to: hhmm,
  })
  .strict()
  .refine((s) => s.from < s.to, { message: "a 'from' time earlier than its 'to' time", path: ['to'] });

const setpoint = z.number().min(5, { message: 'a setpoint of at least 5 degC' }).max(30, {
  message: 'a setpoint of at most 30 degC',
});

export const ComfortPolicySchema = z
  .object({
    /** Heating setpoint while the schedule says the building is occupied, in degC. */
    occupiedSetpoint: setpoint,
    /** Heating setpoint outside scheduled hours (setback), in degC. */
    unoccupiedSetpoint: setpoint,
    /** Half-width of the heating dead band in degC: heat below setpoint - h, stop above setpoint + h. */
    temperatureHysteresis: z.number().min(0.1).max(3).default(0.5),
    /** Comfort band half-width in degC used for the comfort figures: setpoint +/- band counts as comfortable. */
    comfortBand: z.number().min(0.5).max(5).default(1.5),
    /** CO2 in ppm above which ventilation runs low. */
    co2Limit: z.number().int().min(400).max(5000),
    /** CO2 in ppm above which ventilation runs high. */
    co2HighLimit: z.number().int().min(400).max(10000),
    /** Dead band in ppm below each CO2 limit before ventilation steps down again. */
    co2Hysteresis: z.number().int().min(10).max(1000).default(100),
    /** Target illuminance in lux while a zone is occupied; daylight above it keeps lights off. */
    lightingLux: z.number().min(50).max(2000),
    /** IANA time zone the schedule is written in. */
    timezone: z.string().min(1).default('UTC'),
    /** When the building counts as occupied. */
    schedule: z.array(ScheduleEntrySchema).min(1),
    /**
     * Optimal start: degC per hour the zone controller expects a zone to warm while it heats.
     * Before each scheduled opening the heating setpoint ramps from the setback to the occupied
     * setpoint at this rate, reaching it at opening, so a zone starts heating only as early as
     * its own temperature needs. 0 turns pre-heating off.
     */
    preheatRate: z.number().min(0).max(20).default(2),
    /** Longest operator override accepted, in minutes. */
    maxOverrideMinutes: z
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 60)
      .default(240),
  })
  .strict()
  .refine((p) => p.occupiedSetpoint >= p.unoccupiedSetpoint, {
    message: 'occupiedSetpoint at least as high as unoccupiedSetpoint',
    path: ['occupiedSetpoint'],
  })
  .refine((p) => p.co2HighLimit > p.co2Limit, {
    message: 'co2HighLimit above co2Limit',
    path: ['co2HighLimit'],
  })
  .refine((p) => isTimeZone(p.timezone), {
    message: 'an IANA time zone such as "UTC" or "Europe/Berlin"',
    path: ['timezone'],
  });

export const DeviceSchema = z
  .object({
    thing: z.string().regex(THING_NAME_PATTERN, {
      message: "a thing name of letters, digits, '-' or '_', 1-128 characters",
    }),
    senses: z.array(z.enum(SENSOR_KINDS, { message: `one of ${SENSOR_KINDS.join(', ')}` })).default([]),
    drives: z.array(z.enum(ACTUATOR_KINDS, { message: `one of ${ACTUATOR_KINDS.join(', ')}` })).default([]),
    /** Optional hardware model, for people. */
    model: z.string().max(64).optional(),
  })
  .strict()
  .refine((d) => d.senses.length + d.drives.length > 0, {
    message: 'a device that senses or drives at least one thing (senses or drives must not both be empty)',
    path: ['senses'],
  });

/** A zone's floor label: short and printable, so dashboards can show it as a heading. */
const FLOOR_PATTERN = /^[A-Za-z0-9][A-Za-z0-9 -]{0,15}$/;

export const ZoneSchema = z
  .object({
    id: id('zone'),
    name: z.string().min(1).max(64),
    /** Floor area in m2; the simulation sizes heat loss and air volume from it. */
    areaM2: z.number().min(5).max(10_000).default(50),
    /** Most people the zone holds; the simulation's occupancy stays below it. */
    capacity: z.number().int().min(1).max(5000).default(10),
    /** Optional floor the zone is on, a short label such as "3" or "ground"; dashboards group zones by it. */
    floor: z
      .string()
      .regex(FLOOR_PATTERN, {
        message: 'a floor label of 1-16 letters, digits, spaces or -, such as "3" or "ground"',
      })
      .optional(),
    devices: z.array(DeviceSchema).min(1, { message: 'at least one device' }),
  })
  .strict();

/**
 * How a building's devices get their identity:
 * - `stack`: every device is a thing, certificate and attachments in the CloudFormation stack,
 *   from a CSR onboarding made on the operator's machine (for small sites and tests; the stack's
 *   500-resource and 200-output limits cap it near 96 onboarded devices);
 * - `fleet`: AWS IoT fleet provisioning by claim: the stack holds a provisioning template, a
 *   pre-provisioning hook and a claim policy, and devices register themselves; nothing in the
 *   stack grows with the fleet.
 * The default stays `stack`: changing it would remove the things and certificates of every
 * building deployed before, on its next deploy.
 */
export const PROVISIONING_MODES = ['stack', 'fleet'] as const;
export type ProvisioningMode = (typeof PROVISIONING_MODES)[number];
export const DEFAULT_PROVISIONING: ProvisioningMode = 'stack';

/**
 * Longest building id of a fleet-provisioned building: its provisioning template is named
 * `zonectl-<buildingId>`, and AWS IoT allows template names of at most 36 characters.
 */
export const MAX_FLEET_BUILDING_ID_LENGTH = 28;

/** Every thing of a building is named `<buildingId>-...`, so names stay unique and IAM can scope by prefix. */
export const thingNamePrefix = (buildingId: string): string => `${buildingId}-`;

export const BuildingConfigSchema = z
  .object({
    $schema: z.string().optional(),
    buildingId: id('building'),
    name: z.string().min(1).max(128),
    comfort: ComfortPolicySchema,
    storage: StorageSchema.prefault({}),
    provisioning: z
      .enum(PROVISIONING_MODES, { message: `one of ${PROVISIONING_MODES.join(', ')}` })
      .default(DEFAULT_PROVISIONING),
    zones: z.array(ZoneSchema).min(1, { message: 'at least one zone' }),
  })
  .strict()
  .superRefine((b, ctx) => {
    if (b.provisioning === 'fleet' && b.buildingId.length > MAX_FLEET_BUILDING_ID_LENGTH) {
      ctx.addIssue({
        code: 'custom',
        message: `a building id of at most ${MAX_FLEET_BUILDING_ID_LENGTH} characters for fleet provisioning (its template is named "zonectl-<buildingId>", and AWS IoT allows 36 characters)`,
        path: ['buildingId'],
      });
    }
    const zoneIds = new Set<string>();
    const things = new Set<string>();
    b.zones.forEach((zone, zi) => {
      if (zoneIds.has(zone.id)) {
        ctx.addIssue({ code: 'custom', message: 'a zone id used only once', path: ['zones', zi, 'id'] });
      }
      zoneIds.add(zone.id);
      zone.devices.forEach((device, di) => {
        const prefix = thingNamePrefix(b.buildingId);
        if (!device.thing.startsWith(prefix) || device.thing.length === prefix.length) {
          ctx.addIssue({
            code: 'custom',
            message: `a thing name that starts with the building id and '-' ("${prefix}..."), so thing names stay unique across buildings in one account; rename it, e.g. "${prefix}${device.thing}"`,
            path: ['zones', zi, 'devices', di, 'thing'],
          });
        }
        if (things.has(device.thing)) {
          ctx.addIssue({
            code: 'custom',
            message: 'a thing name used only once in the building',
            path: ['zones', zi, 'devices', di, 'thing'],
          });
        }
        things.add(device.thing);
      });
    });
  });

export type BuildingConfig = z.output<typeof BuildingConfigSchema>;
export type ComfortPolicy = z.output<typeof ComfortPolicySchema>;
export type ZoneConfig = z.output<typeof ZoneSchema>;
export type DeviceConfig = z.output<typeof DeviceSchema>;
export type ScheduleEntry = z.output<typeof ScheduleEntrySchema>;

/** Validates a parsed building config; throws BuildingConfigError naming each bad field. */
export function parseBuildingConfig(input: unknown, source = 'building.json'): BuildingConfig {
  const result = BuildingConfigSchema.safeParse(input);
  if (!result.success) throw new BuildingConfigError(source, describeIssues(result.error, input, source));
  return result.data;
}

/** Validates building config text (JSON). */
export function parseBuildingConfigText(text: string, source = 'building.json'): BuildingConfig {
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (err) {
    throw new BuildingConfigError(source, [`not valid JSON (${(err as Error).message})`]);
  }
  return parseBuildingConfig(input, source);
}

export interface DevicePlacement extends DeviceConfig {
  readonly building: string;
  readonly zone: string;
  readonly kind: ThingKind;
}

export function thingKind(device: Pick<DeviceConfig, 'senses' | 'drives'>): ThingKind {
  if (device.senses.length > 0 && device.drives.length > 0) return 'sensor-actuator';
  return device.drives.length > 0 ? 'actuator' : 'sensor';
}

/** Every device of the building with the building and zone it sits in. */
export function devicesOf(config: BuildingConfig): DevicePlacement[] {
  return config.zones.flatMap((zone) =>
    zone.devices.map((d) => ({ ...d, building: config.buildingId, zone: zone.id, kind: thingKind(d) })),
  );
}

export function findDevice(config: BuildingConfig, thing: string): DevicePlacement | undefined {
  return devicesOf(config).find((d) => d.thing === thing);
}

/**
 * Pairs of building ids where one is the other's thing-name prefix (`hq` and `hq-west`): their
 * thing-name patterns would overlap, so they cannot share an account and region.
 */
export function overlappingBuildingIds(ids: readonly string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const a of ids) {
    for (const b of ids) {
      if (a !== b && b.startsWith(thingNamePrefix(a))) out.push([a, b]);
    }
  }
  return out;
}

export function actuatorsOf(config: BuildingConfig): DevicePlacement[] {
  return devicesOf(config).filter((d) => d.drives.length > 0);
}

export type { ActuatorKind, SensorKind };

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
