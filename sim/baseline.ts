import { type ComfortPolicy, isScheduledOccupied } from '../contracts';
import type { ActuatorSetting, ZoneModel } from './building-model';

/**
 * The fixed-schedule baseline the zone controller is compared with: what a building without
 * the pipeline typically does. During scheduled hours (with one hour of pre-heat) a plain
 * thermostat holds the occupied setpoint, ventilation runs high and lights are fully on;
 * outside them a thermostat holds the setback temperature and everything else is off.
 */
export function baselineSetting(policy: ComfortPolicy, zone: ZoneModel, at: number): ActuatorSetting {
  const occupiedSoon = isScheduledOccupied(policy, at) || isScheduledOccupied(policy, at + 3_600_000);
  const setpoint = occupiedSoon ? policy.occupiedSetpoint : policy.unoccupiedSetpoint;
  const current = zone.actuators.heating;
  const heating =
    zone.temperature < setpoint - policy.temperatureHysteresis
      ? 'on'
      : zone.temperature > setpoint + policy.temperatureHysteresis
        ? 'off'
        : current;
  const scheduled = isScheduledOccupied(policy, at);
  return { heating, ventilation: scheduled ? 'high' : 'off', lighting: scheduled ? 100 : 0 };
}
