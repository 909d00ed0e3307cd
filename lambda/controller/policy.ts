import {
  type ActuatorKind,
  type ActuatorState,
  type ComfortPolicy,
  isScheduledOccupied,
  LIGHTING_RANGE,
  type Reading,
  SENSOR_KINDS,
  type SensorKind,
  VENTILATION_LEVELS,
  type VentilationLevel,
} from '../../contracts';

/**
 * The zone controller's policy, a pure function: latest zone readings + time + comfort policy
 * + current actuator state + operator overrides -> the actuator values to change.
 *
 * Hysteresis keeps it from flapping: inside each dead band the current value is kept.
 * - Heating: on below setpoint - temperatureHysteresis, off above setpoint + hysteresis.
 *   The setpoint is occupiedSetpoint while the schedule says occupied, else unoccupiedSetpoint.
 * - Ventilation from CO2: 'high' at/above co2HighLimit, at least 'low' at/above co2Limit; a
 *   level is held until CO2 falls below its limit - co2Hysteresis. During scheduled hours,
 *   occupancy > 0 keeps at least 'low'. A CO2-only reading in scheduled hours does not switch
 *   ventilation off either (the zone may be occupied: in zones where CO2 and occupancy come
 *   from different sensors, each alone would otherwise undo the other); it takes an
 *   occupancy of 0 in the same message, or the end of scheduled hours.
 * - Lighting (light = measured total illuminance, lamps included): occupancy 0 -> 0; occupied
 *   and light below lightingLux * 0.9 -> one step up; light above lightingLux * 1.3 -> one
 *   step down; otherwise kept. Raising needs occupancy in the same message; lowering on
 *   brightness alone is always allowed.
 * Only measures present decide: a temperature-only message decides heating only. An unknown
 * current value counts as the resting state (off / 0).
 */

export const LIGHTING_STEP = 20;
export const LIGHTING_RAISE_BELOW = 0.9;
export const LIGHTING_LOWER_ABOVE = 1.3;

/** The latest value of each measure, from the readings of one message. */
export type ZoneMeasures = Partial<Record<SensorKind, number>>;

/** Per kind: when the override ends (epoch ms) and, if known, when it was set (epoch ms). */
export type OverrideWindows = Partial<
  Record<ActuatorKind, { readonly until: number; readonly setAt?: number }>
>;

export interface PolicyInput {
  readonly measures: ZoneMeasures;
  /** Wall-clock time: operator overrides end against it. */
  readonly now: number;
  /**
   * When the readings were taken (epoch ms); the comfort schedule is evaluated at this time,
   * so late or replayed readings are judged by the hours they describe. Default: `now`.
   */
  readonly readingsAt?: number;
  readonly policy: ComfortPolicy;
  /** What the actuator is set to now (desired, else reported). */
  readonly current: ActuatorState;
  readonly overrides?: OverrideWindows;
  /** What this actuator drives; nothing else is decided. */
  readonly drives: readonly ActuatorKind[];
}

export interface PolicyDecision {
  /** Only the values that differ from `current`. */
  readonly changes: ActuatorState;
  /** Overrides that have ended and are to be cleared. */
  readonly expiredOverrides: ActuatorKind[];
}

export function decide(input: PolicyInput): PolicyDecision {
  const { measures, now, policy, current, drives } = input;
  const occupiedHours = isScheduledOccupied(policy, input.readingsAt ?? now);
  const changes: ActuatorState = {};
  const expiredOverrides: ActuatorKind[] = [];

  for (const kind of drives) {
    const window = input.overrides?.[kind];
    if (window) {
      if (now < overrideEnd(window, policy)) continue;
      expiredOverrides.push(kind);
    }
    if (kind === 'heating') {
      const next = decideHeating(measures, occupiedHours, policy, current.heating);
      if (next !== undefined && next !== current.heating) changes.heating = next;
    } else if (kind === 'ventilation') {
      const next = decideVentilation(measures, occupiedHours, policy, current.ventilation);
      if (next !== undefined && next !== current.ventilation) changes.ventilation = next;
    } else {
      const next = decideLighting(measures, policy, current.lighting);
      if (next !== undefined && next !== current.lighting) changes.lighting = next;
    }
  }
  return { changes, expiredOverrides };
}

/** When an override ends: its own end, but no later than maxOverrideMinutes after it was set. */
export function overrideEnd(window: { until: number; setAt?: number }, policy: ComfortPolicy): number {
  if (window.setAt === undefined) return window.until;
  return Math.min(window.until, window.setAt + policy.maxOverrideMinutes * 60_000);
}

export function decideHeating(
  measures: ZoneMeasures,
  occupiedHours: boolean,
  policy: ComfortPolicy,
  current: 'on' | 'off' | undefined,
): 'on' | 'off' | undefined {
  const t = measures.temperature;
  if (t === undefined) return undefined;
  const setpoint = occupiedHours ? policy.occupiedSetpoint : policy.unoccupiedSetpoint;
  if (t < setpoint - policy.temperatureHysteresis) return 'on';
  if (t > setpoint + policy.temperatureHysteresis) return 'off';
  return current ?? 'off';
}

export function decideVentilation(
  measures: ZoneMeasures,
  occupiedHours: boolean,
  policy: ComfortPolicy,
  current: VentilationLevel | undefined,
): VentilationLevel | undefined {
  const { co2, occupancy } = measures;
  if (co2 === undefined && occupancy === undefined) return undefined;
  const now = VENTILATION_LEVELS.indexOf(current ?? 'off');
  let level: number;
  if (co2 === undefined) {
    level = now; // occupancy alone can only raise the floor below
  } else {
    level = 0;
    if (now >= 1 && co2 >= policy.co2Limit - policy.co2Hysteresis) level = 1;
    if (now >= 2 && co2 >= policy.co2HighLimit - policy.co2Hysteresis) level = 2;
    if (co2 >= policy.co2Limit) level = Math.max(level, 1);
    if (co2 >= policy.co2HighLimit) level = 2;
  }
  if (occupiedHours) {
    const reportedOccupied = occupancy !== undefined && occupancy > 0;
    const maybeOccupied = occupancy === undefined && now >= 1;
    if (reportedOccupied || maybeOccupied) level = Math.max(level, 1);
  }
  return VENTILATION_LEVELS[level];
}

export function decideLighting(
  measures: ZoneMeasures,
  policy: ComfortPolicy,
  current: number | undefined,
): number | undefined {
  const { occupancy, light } = measures;
  const level = current ?? 0;
  if (occupancy === 0) return 0;
  if (light === undefined) return undefined;
  if (light > policy.lightingLux * LIGHTING_LOWER_ABOVE)
    return Math.max(LIGHTING_RANGE.min, level - LIGHTING_STEP);
  if (occupancy !== undefined && light < policy.lightingLux * LIGHTING_RAISE_BELOW) {
    return Math.min(LIGHTING_RANGE.max, level + LIGHTING_STEP);
  }
  return level;
}

/** The time of the newest reading, or undefined for none. */
export function newestReadingTime(readings: readonly Reading[]): number | undefined {
  let newest: number | undefined;
  for (const r of readings) if (newest === undefined || r.ts > newest) newest = r.ts;
  return newest;
}

/** The latest value of each measure across the readings (by timestamp; later wins on ties). */
export function latestMeasures(readings: readonly Reading[]): ZoneMeasures {
  const out: ZoneMeasures = {};
  const at: Partial<Record<SensorKind, number>> = {};
  for (const reading of readings) {
    for (const kind of SENSOR_KINDS) {
      const value = reading[kind];
      if (value === undefined) continue;
      const seen = at[kind];
      if (seen === undefined || reading.ts >= seen) {
        out[kind] = value;
        at[kind] = reading.ts;
      }
    }
  }
  return out;
}
