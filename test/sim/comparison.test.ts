/**
 * The simulated building the demo runs, without the pipeline: the energy comparison is only
 * fair when the fixed-schedule baseline sees the same weather and the same people as the
 * building the zone controller runs (sim/comparison.ts promises both).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseBuildingConfigText } from '../../contracts';
import { BuildingComparison } from '../../sim/comparison';

const config = parseBuildingConfigText(readFileSync('building.json', 'utf8'), 'building.json');
const START = Date.parse('2026-11-23T00:00:00Z');

describe('the simulated building and its fixed-schedule twin', () => {
  it('gives the baseline the same occupants as the controlled building whose sensors are read', () => {
    const buildings = new BuildingComparison(config, 1, START);
    const differing: string[] = [];
    for (let t = START + 60_000; t <= START + 24 * 3_600_000; t += 60_000) {
      buildings.advanceTo(t);
      // The demo's sensor drivers read the controlled building; nobody reads the baseline.
      for (const zone of buildings.controlled.zones.values()) zone.sense('temperature');
      for (const [id, zone] of buildings.controlled.zones) {
        const other = buildings.baseline.zone(id).occupancy;
        if (zone.occupancy !== other && differing.length < 5)
          differing.push(`${new Date(t).toISOString()} ${id}: ${zone.occupancy} vs ${other}`);
      }
    }
    expect(differing).toEqual([]);
  });

  it('runs the baseline on its fixed schedule: heating, ventilation and lights on in working hours', () => {
    const buildings = new BuildingComparison(config, 1, START);
    // The example building is scheduled 07:00-19:00 UTC every day.
    const noon = START + 12 * 3_600_000;
    buildings.advanceTo(noon);
    buildings.advanceTo(noon + 60_000);
    for (const zone of buildings.baseline.zones.values()) {
      expect(zone.actuators.ventilation).toBe('high');
      expect(zone.actuators.lighting).toBe(100);
    }
  });

  it('counts comfort only from when it is told to, and reports a zone never occupied as null', () => {
    const buildings = new BuildingComparison(config, 1, START);
    buildings.countFrom(START + 24 * 3_600_000);
    buildings.advanceTo(START + 12 * 3_600_000);
    for (const c of Object.values(buildings.comfort()))
      expect(c).toEqual({ controlled: null, baseline: null, occupiedHours: 0 });
  });
});
