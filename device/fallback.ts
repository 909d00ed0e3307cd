/**
 * Edge fallback: when the cloud has been unreachable for longer than `afterMs`, the agent runs
 * this local control loop on every sample so the zone stays within safe limits:
 *
 * - heating: on below `minTemperature - hysteresis`, off above `maxTemperature + hysteresis`,
 *   kept on until `minTemperature + hysteresis` once forced on; otherwise the last command the
 *   cloud gave (the last known setpoint) holds;
 * - ventilation: high above `co2HighLimit`, at least low above `co2Limit`; otherwise the last
 *   cloud command holds;
 * - lighting: the last cloud command holds.
 *
 * Without a local reading of a measure (an actuator-only device), the matching actuator holds
 * its last cloud command. On reconnect the agent reports mode 'fallback' with what it did, then
 * fetches the shadow and hands control back to the cloud (mode 'cloud').
 */
import { type ActuatorKind, type ActuatorState, VENTILATION_LEVELS } from '../contracts';
import type { SafetyLimits } from './bundle';
import type { SensorValues } from './drivers';

export interface FallbackOptions {
  /** How long the cloud must be unreachable before the local loop takes over, ms. Default 120 s. */
  readonly afterMs: number;
}

export const DEFAULT_FALLBACK: FallbackOptions = { afterMs: 120_000 };

/** Used when the bundle carries no safety limits (a bundle written without a building config). */
export const DEFAULT_SAFETY_LIMITS: SafetyLimits = {
  minTemperature: 12,
  maxTemperature: 28,
  temperatureHysteresis: 0.5,
  co2Limit: 1000,
  co2HighLimit: 1500,
};

const level = (v: string | undefined) => VENTILATION_LEVELS.indexOf((v ?? 'off') as never);

/** What the fallback loop wants changed: only kinds this device drives whose value differs. */
export function fallbackCommands(input: {
  readonly readings: SensorValues;
  readonly lastCloud: ActuatorState;
  readonly current: ActuatorState;
  readonly limits: SafetyLimits;
  readonly drives: readonly ActuatorKind[];
}): ActuatorState {
  const { readings, lastCloud, current, limits, drives } = input;
  const want: ActuatorState = {};
  if (drives.includes('heating')) {
    const t = readings.temperature;
    const h = limits.temperatureHysteresis;
    let heating = lastCloud.heating ?? current.heating;
    if (t !== undefined) {
      if (t < limits.minTemperature - h) heating = 'on';
      else if (t > limits.maxTemperature + h) heating = 'off';
      else if (current.heating === 'on' && t < limits.minTemperature + h) heating = 'on';
    }
    if (heating !== undefined) want.heating = heating;
  }
  if (drives.includes('ventilation')) {
    const co2 = readings.co2;
    let ventilation = lastCloud.ventilation ?? current.ventilation;
    if (co2 !== undefined) {
      if (co2 > limits.co2HighLimit) ventilation = 'high';
      else if (co2 > limits.co2Limit && level(ventilation) < level('low')) ventilation = 'low';
    }
    if (ventilation !== undefined) want.ventilation = ventilation;
  }
  if (drives.includes('lighting')) {
    const lighting = lastCloud.lighting ?? current.lighting;
    if (lighting !== undefined) want.lighting = lighting;
  }
  const changes: ActuatorState = {};
  for (const kind of drives) {
    const value = want[kind];
    if (value !== undefined && value !== current[kind]) (changes as Record<string, unknown>)[kind] = value;
  }
  return changes;
}
