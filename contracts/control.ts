import { z } from 'zod';
import { actuatorsOf, type BuildingConfig, ComfortPolicySchema } from './building';
import { ACTUATOR_KINDS } from './measures';

/**
 * What the zone controller needs to know about a building, shipped as a JSON file in the
 * function's asset (named by ENV.configFile): the comfort policy and, per zone, which things
 * drive what.
 */
export const ZoneControlConfigSchema = z.object({
  building: z.string(),
  policy: ComfortPolicySchema,
  zones: z.record(
    z.string(),
    z.array(z.object({ thing: z.string(), drives: z.array(z.enum(ACTUATOR_KINDS)) })),
  ),
});

export type ZoneControlConfig = z.output<typeof ZoneControlConfigSchema>;

/** The file name of the zone control config in the controller's asset. */
export const ZONE_CONTROL_CONFIG_FILE = 'zone-control.json';

export function zoneControlConfigOf(config: BuildingConfig): ZoneControlConfig {
  const zones: ZoneControlConfig['zones'] = {};
  for (const zone of config.zones) zones[zone.id] = [];
  for (const a of actuatorsOf(config)) zones[a.zone]?.push({ thing: a.thing, drives: [...a.drives] });
  return { building: config.buildingId, policy: config.comfort, zones };
}

/**
 * Which clock the zone controller takes for the building's time (lambda/controller/building-clock.ts):
 * 'wall', its own (the default), or 'readings', the timestamps of the readings, for a simulated
 * building that runs on simulated time. Set per deployment through ENV.buildingClock.
 */
export const BUILDING_CLOCKS = ['wall', 'readings'] as const;
export type BuildingClock = (typeof BUILDING_CLOCKS)[number];

/** The clock named by an environment value; absent means 'wall'. */
export function parseBuildingClock(value: string | undefined): BuildingClock {
  if (value === undefined || value === '') return 'wall';
  if ((BUILDING_CLOCKS as readonly string[]).includes(value)) return value as BuildingClock;
  throw new Error(`building clock '${value}' is not one of ${BUILDING_CLOCKS.join(', ')}`);
}
