import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  BuildingConfigError,
  devicesOf,
  MAX_ZONE_CONTROL_CONFIG_BYTES,
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

  it('keeps the zone control config of the example within its size budget', () => {
    const size = Buffer.byteLength(JSON.stringify(zoneControlConfigOf(parseBuildingConfig(example))));
    expect(size).toBeLessThan(MAX_ZONE_CONTROL_CONFIG_BYTES);
  });
});
