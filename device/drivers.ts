/**
 * Sensor and actuator drivers: the agent's only view of hardware. A real device supplies
 * drivers for its bus (I2C, Modbus, GPIO...); the simulated ones below let a device run on a
 * laptop, and a building simulation can supply drivers wired to its model.
 */
import {
  type ActuatorKind,
  type ActuatorState,
  HEATING_STATES,
  MEASURES,
  type SensorKind,
  VENTILATION_LEVELS,
} from '../contracts';

export type SensorValues = Partial<Record<SensorKind, number>>;
export type ActuatorValue = ActuatorState[ActuatorKind];

export interface SensorDriver {
  /** What this driver measures. */
  readonly kinds: readonly SensorKind[];
  /** One reading of every kind it measures; a kind it could not read is left out. */
  read(): Promise<SensorValues>;
  close?(): Promise<void>;
}

export interface ActuatorDriver {
  /** What this driver drives. */
  readonly kinds: readonly ActuatorKind[];
  /** Sets one actuator; rejects if the hardware refused. Values are already validated. */
  apply(kind: ActuatorKind, value: NonNullable<ActuatorValue>): Promise<void>;
  /** The state the hardware is in now. */
  state(): ActuatorState;
  close?(): Promise<void>;
}

/** Starting points and step sizes of the simulated sensors (a bounded random walk). */
const SIM_WALK: Record<SensorKind, { start: number; step: number; min: number; max: number }> = {
  temperature: { start: 20.5, step: 0.15, min: 14, max: 28 },
  humidity: { start: 42, step: 0.8, min: 20, max: 70 },
  occupancy: { start: 0, step: 1, min: 0, max: 12 },
  co2: { start: 600, step: 25, min: 400, max: 2000 },
  light: { start: 300, step: 30, min: 0, max: 1200 },
};

/**
 * Random-walk sensors. `random` is injectable so tests are deterministic. Occupancy changes
 * rarely (one step in ten samples) and stays a whole number, as the contract wants.
 */
export function simulatedSensors(
  kinds: readonly SensorKind[],
  random: () => number = Math.random,
): SensorDriver {
  const values = new Map<SensorKind, number>(kinds.map((k) => [k, SIM_WALK[k].start]));
  return {
    kinds,
    async read() {
      const out: SensorValues = {};
      for (const kind of kinds) {
        const walk = SIM_WALK[kind];
        const current = values.get(kind) ?? walk.start;
        let next: number;
        if (kind === 'occupancy') {
          const r = random();
          next = r < 0.05 ? current - 1 : r > 0.95 ? current + 1 : current;
        } else {
          next = current + (random() * 2 - 1) * walk.step;
        }
        next = Math.min(walk.max, Math.max(walk.min, next));
        values.set(kind, next);
        out[kind] = MEASURES[kind].integer ? Math.round(next) : Math.round(next * 100) / 100;
      }
      return out;
    },
  };
}

/** Actuators that only remember what they were told: enough to run and test the agent. */
export function simulatedActuators(kinds: readonly ActuatorKind[]): ActuatorDriver & {
  readonly history: Array<{ kind: ActuatorKind; value: NonNullable<ActuatorValue>; at: number }>;
} {
  const current: ActuatorState = {};
  for (const kind of kinds) {
    if (kind === 'heating') current.heating = HEATING_STATES[0];
    if (kind === 'ventilation') current.ventilation = VENTILATION_LEVELS[0];
    if (kind === 'lighting') current.lighting = 0;
  }
  const history: Array<{ kind: ActuatorKind; value: NonNullable<ActuatorValue>; at: number }> = [];
  return {
    kinds,
    history,
    async apply(kind, value) {
      if (!kinds.includes(kind)) throw new Error(`this driver does not drive ${kind}`);
      (current as Record<ActuatorKind, unknown>)[kind] = value;
      history.push({ kind, value, at: Date.now() });
    },
    state() {
      return { ...current };
    },
  };
}

/** Reads every sensor driver and merges the values; a failing driver is skipped and reported. */
export async function readAll(
  drivers: readonly SensorDriver[],
  onError: (driver: SensorDriver, err: unknown) => void,
): Promise<SensorValues> {
  const merged: SensorValues = {};
  const results = await Promise.allSettled(drivers.map((d) => d.read()));
  results.forEach((result, i) => {
    if (result.status === 'fulfilled') Object.assign(merged, result.value);
    else onError(drivers[i] as SensorDriver, result.reason);
  });
  for (const key of Object.keys(merged) as SensorKind[]) {
    const value = merged[key];
    const spec = MEASURES[key];
    // Only unreadable values are dropped here. A value outside the contract's range is still a
    // reading: the cloud refuses it and dead-letters it with the reason, so a failing sensor
    // shows up there instead of vanishing on the device.
    if (value === undefined || !Number.isFinite(value)) delete merged[key];
    else if (spec.integer) merged[key] = Math.round(value);
  }
  return merged;
}

/** Which driver drives each actuator kind (the first one that claims it). */
export function actuatorFor(
  drivers: readonly ActuatorDriver[],
  kind: ActuatorKind,
): ActuatorDriver | undefined {
  return drivers.find((d) => d.kinds.includes(kind));
}

export function actuatorStateOf(drivers: readonly ActuatorDriver[]): ActuatorState {
  return Object.assign({}, ...drivers.map((d) => d.state())) as ActuatorState;
}
