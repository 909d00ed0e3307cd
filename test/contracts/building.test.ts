import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  BuildingConfigError,
  devicesOf,
  overlappingBuildingIds,
  parseBuildingConfig,
  parseBuildingConfigText,
  thingKind,
  zoneControlConfigOf,
} from '../../contracts';

const example = JSON.parse(readFileSync('building.json', 'utf8'));

function errorOf(fn: () => unknown): BuildingConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof BuildingConfigError) return err;
    throw err;
  }
  throw new Error('expected a BuildingConfigError');
}

describe('building config', () => {
  it('accepts the example building with at least 3 zones and 8 devices', () => {
    const config = parseBuildingConfig(example);
    expect(config.zones.length).toBeGreaterThanOrEqual(3);
    expect(devicesOf(config).length).toBeGreaterThanOrEqual(8);
  });

  it('names the field, the bad value and what is expected for a bad zone id', () => {
    const bad = structuredClone(example);
    bad.zones[1].id = 'Floor 1!';
    const err = errorOf(() => parseBuildingConfig(bad));
    expect(err.message).toContain('zones[1].id');
    expect(err.message).toContain('"Floor 1!"');
    expect(err.message).toContain('lower-case letters');
  });

  it('rejects an unknown sensor kind naming the allowed ones', () => {
    const bad = structuredClone(example);
    bad.zones[0].devices[0].senses = ['temperature', 'radon'];
    const err = errorOf(() => parseBuildingConfig(bad));
    expect(err.message).toContain('zones[0].devices[0].senses[1]');
    expect(err.message).toContain('"radon"');
    expect(err.message).toContain('temperature, humidity, occupancy, co2, light');
  });

  it('rejects a thing name used twice', () => {
    const bad = structuredClone(example);
    bad.zones[1].devices[0].thing = bad.zones[0].devices[0].thing;
    expect(errorOf(() => parseBuildingConfig(bad)).message).toContain('a thing name used only once');
  });

  it('rejects a missing comfort field as missing', () => {
    const bad = structuredClone(example);
    delete bad.comfort.co2Limit;
    const err = errorOf(() => parseBuildingConfig(bad));
    expect(err.message).toContain('comfort.co2Limit: got nothing (field missing)');
  });

  it('rejects an occupied setpoint below the unoccupied one', () => {
    const bad = structuredClone(example);
    bad.comfort.occupiedSetpoint = 15;
    bad.comfort.unoccupiedSetpoint = 18;
    expect(errorOf(() => parseBuildingConfig(bad)).message).toContain('comfort.occupiedSetpoint');
  });

  it('rejects an unknown time zone', () => {
    const bad = structuredClone(example);
    bad.comfort.timezone = 'Mars/Olympus';
    expect(errorOf(() => parseBuildingConfig(bad)).message).toContain('IANA time zone');
  });

  it('reports text that is not JSON as such', () => {
    expect(errorOf(() => parseBuildingConfigText('{ nope', 'x.json')).message).toContain('not valid JSON');
  });

  it('derives the thing kind from what a device senses and drives', () => {
    expect(thingKind({ senses: ['co2'], drives: [] })).toBe('sensor');
    expect(thingKind({ senses: [], drives: ['heating'] })).toBe('actuator');
    expect(thingKind({ senses: ['co2'], drives: ['heating'] })).toBe('sensor-actuator');
  });

  it('lists every actuator of the example in the zone control config, by zone', () => {
    const control = zoneControlConfigOf(parseBuildingConfig(example));
    expect(control.zones.lobby?.map((a) => a.thing)).toEqual(['hq-lobby-hvac', 'hq-lobby-lights']);
  });

  it('refuses a thing named without its building id, naming the fix', () => {
    const bad = structuredClone(example) as { zones: Array<{ devices: Array<{ thing: string }> }> };
    bad.zones[0]!.devices[0]!.thing = 'lobby-climate';
    const message = errorOf(() => parseBuildingConfig(bad, 'b.json')).message;
    expect(message).toContain('zones[0].devices[0].thing');
    expect(message).toContain('starts with the building id');
    expect(message).toContain('"hq-lobby-climate"');
  });

  it('defaults provisioning to stack and accepts fleet, refusing anything else', () => {
    expect(parseBuildingConfig(example).provisioning).toBe('stack');
    expect(parseBuildingConfig({ ...(example as object), provisioning: 'fleet' }).provisioning).toBe('fleet');
    expect(
      errorOf(() => parseBuildingConfig({ ...(example as object), provisioning: 'claim' })).message,
    ).toContain('one of stack, fleet');
  });

  it('takes an optional short floor label on a zone and refuses a long one', () => {
    const withFloor = structuredClone(example) as { zones: Array<Record<string, unknown>> };
    withFloor.zones[0]!.floor = 'ground';
    expect(parseBuildingConfig(withFloor).zones[0]?.floor).toBe('ground');
    withFloor.zones[0]!.floor = 'the floor above the cafeteria';
    expect(errorOf(() => parseBuildingConfig(withFloor)).message).toContain('zones[0].floor');
  });

  it('finds building ids whose thing-name prefixes overlap', () => {
    expect(overlappingBuildingIds(['hq', 'hq-west', 'site-b'])).toEqual([['hq', 'hq-west']]);
    expect(overlappingBuildingIds(['hq', 'site-b'])).toEqual([]);
  });
});
