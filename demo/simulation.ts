import type { BuildingConfig } from '../contracts';
import { BuildingComparison } from '../sim/comparison';
import type { SimulatedWindow } from '../sim/day';

/**
 * The demo's simulated time: a fixed window (sim/day.ts) walked in steps of one simulated
 * minute. At each step the simulated buildings advance to the step's time and the demo's step
 * function runs (the devices sample, and the demo waits for the pipeline to settle); only then
 * does the next step start. `speed` paces the steps against the wall clock (at most that many
 * simulated seconds per wall-clock second; 'max' does not wait); a pipeline slower than the pace
 * makes the run take longer, never changes what it computes.
 */

export const STEP_MS = 60_000;

export interface SimulationOptions {
  /** Simulated seconds per wall-clock second, at most; 'max' runs as fast as the pipeline settles. */
  readonly speed: number | 'max';
  readonly seed: number;
  readonly window: SimulatedWindow;
}

export interface Simulation {
  readonly buildings: BuildingComparison;
  readonly window: SimulatedWindow;
  /** The simulated time now (epoch ms): the current step's time. */
  now(): number;
  /**
   * Walks the window: `step(t)` at its start, then at each step after the buildings advanced to
   * `t`. Resolves at the end of the window or after the step during which `stop()` was called.
   */
  run(step: (t: number) => Promise<void>): Promise<void>;
  /** Ends the run after the current step. */
  stop(): void;
  /** Whether the whole window was simulated. */
  readonly completed: boolean;
}

export function createSimulation(config: BuildingConfig, o: SimulationOptions): Simulation {
  const { window } = o;
  const buildings = new BuildingComparison(config, o.seed, window.from, window.dayStart);
  let now = window.from;
  let stopped = false;
  let completed = false;
  let wake: (() => void) | undefined;

  const pace = async (t: number, wallStart: number) => {
    if (o.speed === 'max') return;
    const due = wallStart + (t - window.from) / o.speed;
    const wait = due - Date.now();
    if (wait <= 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, wait);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    wake = undefined;
  };

  return {
    buildings,
    window,
    now: () => now,
    async run(step) {
      const wallStart = Date.now();
      await step(now);
      while (!stopped && now < window.to) {
        const next = Math.min(now + STEP_MS, window.to);
        await pace(next, wallStart);
        if (stopped) break;
        buildings.advanceTo(next);
        now = next;
        await step(now);
      }
      completed = now >= window.to;
    },
    stop() {
      stopped = true;
      wake?.();
    },
    get completed() {
      return completed;
    },
  };
}
