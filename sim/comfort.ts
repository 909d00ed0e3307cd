import { type ComfortPolicy, isScheduledOccupied } from '../contracts';

/**
 * Comfort accounting: of the time a zone is occupied (people present), the share during which
 * its air temperature is comfortable, and the share with CO2 at or below the policy's high
 * limit. Comfortable means not colder than the setpoint in force minus the comfort band, and not
 * warmer than the occupied setpoint plus the band: outside scheduled hours the setpoint is the
 * setback one, and a zone kept warmer than that (a pre-heated one, say) is not uncomfortable.
 */
export class ComfortMeter {
  private occupiedMs = 0;
  private inBandMs = 0;
  private co2OkMs = 0;

  constructor(private readonly policy: ComfortPolicy) {}

  record(
    at: number,
    durationMs: number,
    sample: { occupancy: number; temperature: number; co2: number },
  ): void {
    if (sample.occupancy <= 0 || durationMs <= 0) return;
    const p = this.policy;
    const setpoint = isScheduledOccupied(p, at) ? p.occupiedSetpoint : p.unoccupiedSetpoint;
    this.occupiedMs += durationMs;
    const t = sample.temperature;
    if (t >= setpoint - p.comfortBand && t <= p.occupiedSetpoint + p.comfortBand) this.inBandMs += durationMs;
    if (sample.co2 <= p.co2HighLimit) this.co2OkMs += durationMs;
  }

  /** Hours during which people were in the zone: what the shares rest on. */
  get occupiedHours(): number {
    return this.occupiedMs / 3_600_000;
  }

  /** Share of occupied time in the temperature band, 0-1; undefined when never occupied. */
  get temperatureShare(): number | undefined {
    return this.occupiedMs === 0 ? undefined : this.inBandMs / this.occupiedMs;
  }

  get co2Share(): number | undefined {
    return this.occupiedMs === 0 ? undefined : this.co2OkMs / this.occupiedMs;
  }
}
