/**
 * Scripted drivers for agents in end-to-end tests: the test decides what the sensor reads
 * next, so stored values can be checked exactly.
 */
import type { SensorDriver } from '../../../device/drivers';

export interface ScriptedTemperature extends SensorDriver {
  /** What the next read returns, degC. */
  next: number;
  /** Every value read so far, in order. */
  readonly history: number[];
}

/** A temperature sensor that reads `next`, then adds `step` to it. */
export function scriptedTemperature(start: number, step = 0.25): ScriptedTemperature {
  const driver: ScriptedTemperature = {
    kinds: ['temperature'],
    next: start,
    history: [],
    async read() {
      const value = driver.next;
      driver.history.push(value);
      driver.next = Math.round((value + step) * 100) / 100;
      return { temperature: value };
    },
  };
  return driver;
}

/**
 * Takes `count` samples a few milliseconds apart. Readings are stored under (thing, time), so
 * two samples within one millisecond would be one record to Timestream; a real device samples
 * seconds apart.
 */
export async function sampleSpaced(agent: { sample(): Promise<void> }, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 5));
    await agent.sample();
  }
}
