import {
  type ActuatorKind,
  type ActuatorState,
  type ComfortPolicy,
  isScheduledOccupied,
  LIGHTING_RANGE,
  nextOpening,
  type Reading,
  SENSOR_KINDS,
  type SensorKind,
  VENTILATION_LEVELS,
  type VentilationLevel,
} from '../../contracts';

/**
 * The zone controller's policy, a pure function: latest zone readings + the building's time +
 * comfort policy + current actuator state + operator overrides -> the actuator values to change.
 *
 * Hysteresis keeps it from flapping: inside each dead band the current value is kept.
 * - Heating: on below setpoint - temperatureHysteresis, off above setpoint + hysteresis. The
 *   setpoint is occupiedSetpoint while the schedule says occupied. Outside scheduled hours it is
 *   unoccupiedSetpoint, except before an opening (optimal start, `heatingSetpoint`): it ramps up
 *   at comfort.preheatRate degC per hour so that it reaches the occupied setpoint at opening,
 *   max(unoccupied, occupied - preheatRate * hours to opening). A zone that is already warm does
 *   not heat early; a cold one starts as early as its deficit needs at that warm-up rate.
 * - Ventilation from CO2: 'high' at/above co2HighLimit, at least 'low' at/above co2Limit; a
 *   level is held until CO2 falls below its limit - co2Hysteresis. During scheduled hours,
 *   occupancy > 0 keeps at least 'low'. A CO2-only reading in scheduled hours does not switch
 *   ventilation off either (the zone may be occupied: in zones where CO2 and occupancy come
 *   from different sensors, each alone would otherwise undo the other); it takes an
 *   occupancy of 0 in the same message, or the end of scheduled hours.
 * - Ventilation also cools (free cooling, `coolingVentilation`): in scheduled hours a zone at or
 *   above occupiedSetpoint + comfortBand - hysteresis (crowds and sun with the heating off) gets
 *   'high' until it is back below occupiedSetpoint + hysteresis; outdoor air through the heat
 *   recovery unit is the only cooling a heating-only zone has. It needs a temperature reading in
 *   the message.
 * - Lighting (light = measured total illuminance, lamps included): occupancy 0 -> 0; occupied
 *   and light below lightingLux * 0.9 -> one step up; light above lightingLux * 1.3 -> one
 *   step down; otherwise kept. Raising needs occupancy in the same message; lowering on
 *   brightness alone is always allowed.
 * Only measures present decide: a temperature-only message decides heating (and cooling) only.
 * An unknown current value counts as the resting state (off / 0).
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
  /**
   * The building's time (epoch ms, lambda/controller/building-clock.ts): the schedule, the
   * pre-heating ramp and operator overrides are judged at it.
   */
  readonly now: number;
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
  const occupiedHours = isScheduledOccupied(policy, now);
  const changes: ActuatorState = {};
  const expiredOverrides: ActuatorKind[] = [];

  for (const kind of drives) {
    const window = input.overrides?.[kind];
    if (window) {
      if (now < overrideEnd(window, policy)) continue;
      expiredOverrides.push(kind);
    }
    if (kind === 'heating') {
      const next = decideHeating(measures, heatingSetpoint(policy, now), policy, current.heating);
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

const HOUR = 3_600_000;

/**
 * The heating setpoint in force at `now`: the occupied one in scheduled hours; before an
 * opening, the pre-heating ramp; otherwise the setback.
 */
export function heatingSetpoint(policy: ComfortPolicy, now: number): number {
  if (isScheduledOccupied(policy, now)) return policy.occupiedSetpoint;
  const span = policy.occupiedSetpoint - policy.unoccupiedSetpoint;
  if (policy.preheatRate <= 0 || span <= 0) return policy.unoccupiedSetpoint;
  const opening = nextOpening(policy, now);
  if (opening === undefined) return policy.unoccupiedSetpoint;
  const hours = (opening - now) / HOUR;
  return Math.max(policy.unoccupiedSetpoint, policy.occupiedSetpoint - policy.preheatRate * hours);
}

export function decideHeating(
  measures: ZoneMeasures,
  setpoint: number,
  policy: ComfortPolicy,
  current: 'on' | 'off' | undefined,
): 'on' | 'off' | undefined {
  const t = measures.temperature;
  if (t === undefined) return undefined;
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
  const now = VENTILATION_LEVELS.indexOf(current ?? 'off');
  if (co2 === undefined && occupancy === undefined) {
    // A temperature alone can start or hold cooling; ending it takes CO2 or occupancy.
    return occupiedHours && coolingVentilation(measures, policy, now) ? 'high' : undefined;
  }
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
    if (coolingVentilation(measures, policy, now)) level = 2;
  }
  return VENTILATION_LEVELS[level];
}

/**
 * Whether the zone needs ventilation's cooling: at or above occupiedSetpoint + comfortBand -
 * hysteresis, and, once cooling at 'high', until back below occupiedSetpoint + hysteresis.
 */
export function coolingVentilation(
  measures: ZoneMeasures,
  policy: ComfortPolicy,
  currentLevel: number,
): boolean {
  const t = measures.temperature;
  if (t === undefined) return false;
  const h = policy.temperatureHysteresis;
  if (t >= policy.occupiedSetpoint + policy.comfortBand - h) return true;
  return currentLevel >= 2 && t >= policy.occupiedSetpoint + h;
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
