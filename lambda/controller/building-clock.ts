import type { BuildingClock, Reading } from '../../contracts';

/**
 * The building's clock, as the zone controller learns it, and which readings are recent enough
 * to act on. Decisions (the schedule, pre-heating, when an operator override ends) are taken at
 * the building's time `now`.
 *
 * - 'wall' (the default; what an AWS deployment runs): the function's own clock. Lambda's hosts
 *   keep time, devices may not: a device clock is never taken for the time, it only dates the
 *   readings.
 * - 'readings': the building runs on another clock than the function, as a simulated building
 *   does (the demo deploys the controller so: `zonectl:buildingClock` context). The deployment
 *   says so; the controller never infers it from the data. The building's time is then the
 *   newest reading's timestamp, bounded by the function's clock: never later than
 *   `FUTURE_TOLERANCE_MS` ahead of it (the 15 minutes Timestream accepts ahead, "Future
 *   ingestion period" in its quotas), so a device with a fast clock cannot end an override early.
 *
 * Either way only fresh readings drive actuators: a reading more than `MAX_READING_AGE_MS` older
 * than the building's time (a replay of readings a device buffered through an outage, a device
 * clock running late) or more than `FUTURE_TOLERANCE_MS` newer (a clock running fast) is left
 * out of the decision, because the commands act on the present. The ingest path stores them all.
 */

/** How old a reading may be, against the building's time, and still drive an actuator. */
export const MAX_READING_AGE_MS = 30 * 60_000;
/** How far ahead of the building's time a reading's timestamp may be. */
export const FUTURE_TOLERANCE_MS = 15 * 60_000;

export interface BuildingTime {
  /** The building's time (epoch ms). */
  readonly now: number;
  /** The readings recent enough to act on, in their original order. */
  readonly fresh: Reading[];
  /** Readings left out because they were too old. */
  readonly stale: number;
  /** Readings left out because their timestamps were ahead of the building's time. */
  readonly ahead: number;
}

export function buildingTime(
  readings: readonly Reading[],
  wallNow: number,
  clock: BuildingClock,
): BuildingTime {
  let now = wallNow;
  if (clock === 'readings' && readings.length > 0) {
    const newest = Math.max(...readings.map((r) => r.ts));
    now = Math.min(newest, wallNow + FUTURE_TOLERANCE_MS);
  }
  const fresh: Reading[] = [];
  let stale = 0;
  let ahead = 0;
  for (const r of readings) {
    if (r.ts < now - MAX_READING_AGE_MS) stale++;
    else if (r.ts > now + FUTURE_TOLERANCE_MS) ahead++;
    else fresh.push(r);
  }
  return { now, fresh, stale, ahead };
}
