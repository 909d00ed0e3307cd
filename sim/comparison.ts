import type { BuildingConfig } from '../contracts';
import { baselineSetting } from './baseline';
import { BuildingModel } from './building-model';
import { ComfortMeter } from './comfort';
import { createWeather } from './weather';

/**
 * The building the zone controller runs and its fixed-schedule twin, stepped together: the
 * same weather and the same people (seeded alike), so their energy and comfort compare fairly.
 * The controlled building's actuators are set from outside (the device agents' drivers); the
 * baseline's follow `baselineSetting`. Energy and comfort are simulation results.
 */
export class BuildingComparison {
  readonly controlled: BuildingModel;
  readonly baseline: BuildingModel;
  private readonly meters = new Map<string, ComfortMeter>();
  private readonly baselineMeters = new Map<string, ComfortMeter>();
  private counted: number;

  /** Both buildings start at `start` (epoch ms); comfort is counted from then too. */
  constructor(
    private readonly config: BuildingConfig,
    seed: number,
    start: number,
  ) {
    const weather = createWeather({ seed });
    this.controlled = new BuildingModel(config, weather, seed, start);
    this.baseline = new BuildingModel(config, weather, seed, start);
    for (const zone of config.zones) {
      this.meters.set(zone.id, new ComfortMeter(config.comfort));
      this.baselineMeters.set(zone.id, new ComfortMeter(config.comfort));
    }
    this.counted = start;
  }

  /** Counts comfort from `at` on; time before it (set-up) is not judged. */
  countFrom(at: number): void {
    this.counted = at;
  }

  /** Sets the baseline's actuators, counts comfort up to `now` and advances both buildings. */
  advanceTo(now: number): void {
    const last = this.counted;
    if (now <= last) return;
    for (const zone of this.baseline.zones.values())
      Object.assign(zone.actuators, baselineSetting(this.config.comfort, zone, last));
    for (const [id, zone] of this.controlled.zones) this.meters.get(id)!.record(last, now - last, zone);
    for (const [id, zone] of this.baseline.zones) this.baselineMeters.get(id)!.record(last, now - last, zone);
    this.controlled.advanceTo(now);
    this.baseline.advanceTo(now);
    this.counted = now;
  }

  energy(): { controlledKWh: number; baselineKWh: number } {
    return { controlledKWh: this.controlled.totalEnergyKWh(), baselineKWh: this.baseline.totalEnergyKWh() };
  }

  /** Per zone: the share of occupied time within the comfort band; null when never occupied. */
  comfort(): Record<string, { controlled: number | null; baseline: number | null }> {
    return Object.fromEntries(
      this.config.zones.map((z) => [
        z.id,
        {
          controlled: this.meters.get(z.id)!.temperatureShare ?? null,
          baseline: this.baselineMeters.get(z.id)!.temperatureShare ?? null,
        },
      ]),
    );
  }
}
