import { type BuildingConfig, type ComfortPolicy, isScheduledOccupied, type ZoneConfig } from '../contracts';
import type { HeatingState, SensorKind, VentilationLevel } from '../contracts/measures';
import { gaussian, seededRandom } from './random';

import type { Weather } from './weather';

/**
 * A simulated building: one well-mixed air volume per zone with
 *  - a first-order thermal model: C dT/dt = UA (T_out - T) + heating + people + sun,
 *  - a CO2 mass balance: V dC/dt = people * G + Q_vent (C_out - C),
 *  - occupancy from the comfort schedule with seeded randomness (meeting rooms book in blocks),
 *  - daylight through windows plus the zone's lamps for illuminance.
 * Actuators change the physics: heating warms, ventilation exchanges air and costs fan power,
 * lighting adds lux and costs power. Energy is integrated per zone. Parameters are plausible
 * for an office, not calibrated against a real building: results are simulation results.
 */

export interface ActuatorSetting {
  heating: HeatingState;
  ventilation: VentilationLevel;
  lighting: number;
}

export interface ZoneEnergy {
  heatingKWh: number;
  ventilationKWh: number;
  lightingKWh: number;
}

export interface ZoneSnapshot {
  readonly zone: string;
  readonly temperature: number;
  readonly humidity: number;
  readonly co2: number;
  readonly occupancy: number;
  readonly light: number;
  readonly actuators: Readonly<ActuatorSetting>;
  readonly energy: Readonly<ZoneEnergy>;
}

const OUTDOOR_CO2 = 420;
/** CO2 exhaled per person, m3/s (sedentary office work). */
const CO2_PER_PERSON = 5.2e-6;
/** Sensible heat per person, W. */
const HEAT_PER_PERSON = 90;
const AIR_CHANGES_PER_HOUR: Record<VentilationLevel, number> = { off: 0.3, low: 2.5, high: 6 };
/** Fan power per m3 of zone volume, W. */
const FAN_W_PER_M3: Record<VentilationLevel, number> = { off: 0, low: 1.2, high: 4 };
const LAMP_W_PER_M2 = 9;
/** Volumetric heat capacity of air, J/(m3 K). */
const AIR_HEAT_CAPACITY = 1206;
/** Share of the exhaust air's heat the ventilation unit's heat exchanger gives back. */
const HEAT_RECOVERY = 0.7;
const LAMP_LUX_AT_FULL = 500;
const CEILING_M = 3;
const HOUR = 3_600_000;

export class ZoneModel {
  temperature: number;
  co2: number;
  humidity = 40;
  occupancy = 0;
  light = 0;
  readonly actuators: ActuatorSetting = { heating: 'off', ventilation: 'off', lighting: 0 };
  readonly energy: ZoneEnergy = { heatingKWh: 0, ventilationKWh: 0, lightingKWh: 0 };
  private readonly volume: number;
  private readonly ua: number;
  private readonly capacitance: number;
  private readonly heaterW: number;
  private readonly daylightFactor: number;
  /** Sensor noise. */
  private readonly random: () => number;
  /** Occupancy draws, separate from sensor noise so a baseline run sees the same people. */
  private readonly occupancyRandom: () => number;
  private occupancyHour = Number.NaN;
  private occupancyTarget = 0;
  private occupancyJitter = 0;

  constructor(
    readonly config: ZoneConfig,
    private readonly policy: ComfortPolicy,
    private readonly weather: Weather,
    seed: number,
    start: number,
    /** Local midnight of the simulated day: hours of occupancy count from it. */
    private readonly origin = 0,
  ) {
    this.volume = config.areaM2 * CEILING_M;
    this.ua = config.areaM2 * 2.2;
    this.capacitance = config.areaM2 * 40_000;
    this.heaterW = this.ua * 30;
    this.random = seededRandom(seed);
    this.occupancyRandom = seededRandom(seed ^ 0x0cc0);
    this.daylightFactor = 0.008 + this.occupancyRandom() * 0.012;
    this.temperature = policy.unoccupiedSetpoint + this.occupancyRandom();
    this.co2 = OUTDOOR_CO2 + 30;
    this.updateOccupancy(start);
    this.updateLight(start);
  }

  /** Advances the zone from `from` to `to` (epoch ms) under the current actuator settings. */
  step(from: number, to: number): void {
    const maxStep = 60_000;
    for (let t = from; t < to; t += maxStep) {
      const dtMs = Math.min(maxStep, to - t);
      this.integrate(t, dtMs / 1000);
    }
    this.updateOccupancy(to);
    this.updateLight(to);
  }

  private integrate(at: number, dt: number): void {
    const a = this.actuators;
    const outside = this.weather.temperature(at);
    const heating = a.heating === 'on' ? this.heaterW : 0;
    const sun = this.weather.daylight(at) * this.config.areaM2 * 0.0008;
    const gains = heating + this.occupancy * HEAT_PER_PERSON + sun;
    const flow = (AIR_CHANGES_PER_HOUR[a.ventilation] * this.volume) / 3600;
    // Outdoor air brought in by ventilation, after the heat-recovery unit, warms or cools the zone.
    const ventilationUa = flow * AIR_HEAT_CAPACITY * (1 - HEAT_RECOVERY);
    const loss = (this.ua + ventilationUa) * (outside - this.temperature);
    this.temperature += ((loss + gains) / this.capacitance) * dt;
    this.co2 +=
      ((this.occupancy * CO2_PER_PERSON * 1e6 + flow * (OUTDOOR_CO2 - this.co2)) / this.volume) * dt;
    this.humidity = clamp(
      35 + this.occupancy * 0.4 - (AIR_CHANGES_PER_HOUR[a.ventilation] - 0.3) * 0.8,
      20,
      70,
    );
    const hours = dt / 3600;
    this.energy.heatingKWh += (heating / 1000) * hours;
    this.energy.ventilationKWh += ((FAN_W_PER_M3[a.ventilation] * this.volume) / 1000) * hours;
    this.energy.lightingKWh += ((LAMP_W_PER_M2 * this.config.areaM2 * (a.lighting / 100)) / 1000) * hours;
  }

  private updateOccupancy(at: number): void {
    const hour = Math.floor((at - this.origin) / HOUR);
    if (hour !== this.occupancyHour) {
      this.occupancyHour = hour;
      const scheduled = isScheduledOccupied(this.policy, at);
      const meetingRoom = this.config.capacity <= 15;
      const r = this.occupancyRandom;
      if (!scheduled) this.occupancyTarget = r() < 0.05 ? 1 : 0;
      else if (meetingRoom)
        this.occupancyTarget = r() < 0.55 ? Math.ceil(this.config.capacity * (0.3 + 0.7 * r())) : 0;
      else this.occupancyTarget = Math.round(this.config.capacity * (0.35 + 0.5 * r()));
      this.occupancyJitter = Math.round(gaussian(r) * Math.max(1, this.occupancyTarget * 0.08));
    }
    const jitter = this.occupancyJitter;
    this.occupancy =
      this.occupancyTarget === 0 ? 0 : clamp(this.occupancyTarget + jitter, 0, this.config.capacity);
  }

  private updateLight(at: number): void {
    this.light =
      this.weather.daylight(at) * this.daylightFactor + (this.actuators.lighting / 100) * LAMP_LUX_AT_FULL;
  }

  /** What a sensor of the given kind reads now, with sensor noise. */
  sense(kind: SensorKind): number {
    switch (kind) {
      case 'temperature':
        return round(this.temperature + gaussian(this.random) * 0.05, 2);
      case 'humidity':
        return round(this.humidity + gaussian(this.random) * 0.3, 1);
      case 'co2':
        return Math.max(0, Math.round(this.co2 + gaussian(this.random) * 5));
      case 'occupancy':
        return this.occupancy;
      case 'light':
        return Math.max(0, Math.round(this.light + gaussian(this.random) * 3));
    }
  }

  snapshot(): ZoneSnapshot {
    return {
      zone: this.config.id,
      temperature: this.temperature,
      humidity: this.humidity,
      co2: this.co2,
      occupancy: this.occupancy,
      light: this.light,
      actuators: { ...this.actuators },
      energy: { ...this.energy },
    };
  }
}

export class BuildingModel {
  readonly zones: Map<string, ZoneModel>;
  private time: number;

  constructor(
    readonly config: BuildingConfig,
    readonly weather: Weather,
    seed: number,
    start: number,
    origin = 0,
  ) {
    this.time = start;
    this.zones = new Map(
      config.zones.map((z, i) => [
        z.id,
        new ZoneModel(z, config.comfort, weather, seed * 31 + i + 1, start, origin),
      ]),
    );
  }

  get now(): number {
    return this.time;
  }

  advanceTo(to: number): void {
    if (to <= this.time) return;
    for (const zone of this.zones.values()) zone.step(this.time, to);
    this.time = to;
  }

  zone(id: string): ZoneModel {
    const z = this.zones.get(id);
    if (!z) throw new Error(`the simulated building has no zone '${id}'`);
    return z;
  }

  totalEnergyKWh(): number {
    let sum = 0;
    for (const z of this.zones.values())
      sum += z.energy.heatingKWh + z.energy.ventilationKWh + z.energy.lightingKWh;
    return sum;
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
