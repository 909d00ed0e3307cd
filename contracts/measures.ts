/**
 * What devices sense and what they drive. Ranges are physical plausibility limits: a value
 * outside them is a broken sensor or a bad command, never data to store or apply.
 */

export const SENSOR_KINDS = ['temperature', 'humidity', 'occupancy', 'co2', 'light'] as const;
export type SensorKind = (typeof SENSOR_KINDS)[number];

export const ACTUATOR_KINDS = ['heating', 'ventilation', 'lighting'] as const;
export type ActuatorKind = (typeof ACTUATOR_KINDS)[number];

export interface MeasureSpec {
  readonly unit: string;
  readonly min: number;
  readonly max: number;
  /** Whole numbers only (stored as BIGINT); otherwise DOUBLE. */
  readonly integer: boolean;
}

export const MEASURES: Readonly<Record<SensorKind, MeasureSpec>> = {
  temperature: { unit: 'degC', min: -40, max: 85, integer: false },
  humidity: { unit: 'percentRH', min: 0, max: 100, integer: false },
  occupancy: { unit: 'people', min: 0, max: 10_000, integer: true },
  co2: { unit: 'ppm', min: 0, max: 40_000, integer: false },
  light: { unit: 'lux', min: 0, max: 200_000, integer: false },
};

/** Ventilation runs at one of these speeds. */
export const VENTILATION_LEVELS = ['off', 'low', 'high'] as const;
export type VentilationLevel = (typeof VENTILATION_LEVELS)[number];

/** Heating is switched; the controller's hysteresis keeps it from flapping. */
export const HEATING_STATES = ['off', 'on'] as const;
export type HeatingState = (typeof HEATING_STATES)[number];

/** Lighting is dimmed in whole percent. */
export const LIGHTING_RANGE = { min: 0, max: 100 } as const;
