import type { ActuatorKind, SensorKind } from '../contracts';
import type { ActuatorState } from '../contracts/shadow';
import type { ActuatorDriver, SensorDriver, SensorValues } from '../device/main';
import type { ZoneModel } from './building-model';

/**
 * Device drivers connected to the simulated building: sensors read the zone model, actuators
 * change it. A real agent runs on top of them, exactly as it would on hardware.
 */

export interface SensorFaults {
  /** Chance per reading that a sensor reports a physically impossible value (a glitch). */
  readonly glitchRate: number;
  readonly random: () => number;
}

export function zoneSensor(
  zone: ZoneModel,
  kinds: readonly SensorKind[],
  faults?: SensorFaults,
): SensorDriver {
  return {
    kinds,
    async read(): Promise<SensorValues> {
      const out: SensorValues = {};
      for (const kind of kinds) out[kind] = zone.sense(kind);
      if (faults && faults.random() < faults.glitchRate && kinds.includes('humidity')) {
        // A failing humidity element reads far above 100 %RH; the pipeline must dead-letter it.
        out.humidity = 140 + Math.round(faults.random() * 50);
      }
      return out;
    },
  };
}

export function zoneActuator(zone: ZoneModel, kinds: readonly ActuatorKind[]): ActuatorDriver {
  return {
    kinds,
    async apply(kind, value) {
      if (kind === 'heating') zone.actuators.heating = value as 'on' | 'off';
      else if (kind === 'ventilation') zone.actuators.ventilation = value as 'off' | 'low' | 'high';
      else zone.actuators.lighting = Number(value);
    },
    state(): ActuatorState {
      const state: ActuatorState = {};
      if (kinds.includes('heating')) state.heating = zone.actuators.heating;
      if (kinds.includes('ventilation')) state.ventilation = zone.actuators.ventilation;
      if (kinds.includes('lighting')) state.lighting = zone.actuators.lighting;
      return state;
    },
  };
}
