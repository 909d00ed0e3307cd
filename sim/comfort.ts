import { type ComfortPolicy, isScheduledOccupied } from '../contracts';

/**
 * Comfort accounting: of the time a zone is occupied (people present), the share during
 * which its air temperature is within the comfort band around the setpoint in force, and the
 * share with CO2 at or below the policy's high limit.
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
    const setpoint = isScheduledOccupied(this.policy, at)
      ? this.policy.occupiedSetpoint
      : this.policy.unoccupiedSetpoint;
    this.occupiedMs += durationMs;
    if (Math.abs(sample.temperature - setpoint) <= this.policy.comfortBand) this.inBandMs += durationMs;
    if (sample.co2 <= this.policy.co2HighLimit) this.co2OkMs += durationMs;
  }

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
