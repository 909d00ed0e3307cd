/**
 * The simulated building the demo runs, without the pipeline: the energy comparison is only
 * fair when the fixed-schedule baseline sees the same weather and the same people as the
 * building the zone controller runs (sim/demo.ts promises both).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseBuildingConfigText } from '../../contracts';
import { BuildingModel } from '../../sim/building-model';
import { createWeather } from '../../sim/weather';

const config = parseBuildingConfigText(readFileSync('building.json', 'utf8'), 'building.json');
const START = Date.parse('2026-11-23T00:00:00Z');

describe('the simulated building', () => {
  it('gives the baseline the same occupants as the controlled building whose sensors are read', () => {
    const weather = createWeather({ seed: 1 });
    const controlled = new BuildingModel(config, weather, 1, START);
    const baseline = new BuildingModel(config, weather, 1, START);
    const differing: string[] = [];
    for (let t = START + 60_000; t <= START + 24 * 3_600_000; t += 60_000) {
      controlled.advanceTo(t);
      baseline.advanceTo(t);
      // The demo's sensor drivers read the controlled building; nobody reads the baseline.
      for (const zone of controlled.zones.values()) zone.sense('temperature');
      for (const [id, zone] of controlled.zones) {
        const other = baseline.zone(id).occupancy;
        if (zone.occupancy !== other && differing.length < 5)
          differing.push(`${new Date(t).toISOString()} ${id}: ${zone.occupancy} vs ${other}`);
      }
    }
    expect(differing).toEqual([]);
  });
});
