import type { BuildingConfig } from '../contracts';
import { baselineSetting } from './baseline';
import { BuildingModel } from './building-model';
import { ComfortMeter } from './comfort';
import { createWeather } from './weather';

/** One zone's comfort under the zone controller and under the fixed schedule. */
export interface ZoneComfort {
  /** Share of occupied time within the comfort band, 0-1; null when the zone was never occupied. */
  readonly controlled: number | null;
  readonly baseline: number | null;
  /** Occupied hours the shares rest on. */
  readonly occupiedHours: number;
}

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

  /**
   * Both buildings start at `start` (epoch ms); comfort is counted from then too. `origin` is
   * the local midnight of the simulated day, from which weather and people count the time of day.
   */
  constructor(
    private readonly config: BuildingConfig,
    seed: number,
    start: number,
    origin = 0,
  ) {
    const weather = createWeather({ seed, origin });
    this.controlled = new BuildingModel(config, weather, seed, start, origin);
    this.baseline = new BuildingModel(config, weather, seed, start, origin);
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

  /**
   * Per zone: the share of occupied time within the comfort band under each, null when never
   * occupied, and the occupied hours the shares rest on (the same people in both buildings).
   */
  comfort(): Record<string, ZoneComfort> {
    return Object.fromEntries(
      this.config.zones.map((z) => [
        z.id,
        {
          controlled: this.meters.get(z.id)!.temperatureShare ?? null,
          baseline: this.baselineMeters.get(z.id)!.temperatureShare ?? null,
          occupiedHours: this.meters.get(z.id)!.occupiedHours,
        },
      ]),
    );
  }
}
