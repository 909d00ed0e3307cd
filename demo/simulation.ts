import type { BuildingConfig } from '../contracts';
import { BuildingComparison } from '../sim/comparison';

/**
 * The demo's simulated time and the simulated buildings it drives. Simulated time covers a
 * `window` that ends at the present and runs `speed` times faster than the wall clock, so every
 * reading's timestamp is a real, recent time inside the store's window; once it catches up
 * with the wall clock it goes on in real time. A ticker advances the buildings ten times a
 * wall-clock second.
 */

const DAY = 24 * 3_600_000;
const TICK_MS = 100;

export interface SimulationOptions {
  /** Simulated seconds per wall-clock second. */
  readonly speed: number;
  readonly seed: number;
  /** Wall-clock seconds the demo runs for; undefined = until stopped (a simulated day). */
  readonly durationSeconds?: number;
}

export interface Simulation {
  readonly buildings: BuildingComparison;
  /** The simulated time now (epoch ms). */
  now(): number;
  /** Where simulated time started (moves when `run()` restarts it). */
  readonly start: number;
  /** Restarts simulated time at the start of its window and ticks until `stop()`. */
  run(): void;
  /** Stops ticking after a last step; returns the simulated time it stopped at. */
  stop(): number;
}

export function createSimulation(config: BuildingConfig, o: SimulationOptions): Simulation {
  const window = o.durationSeconds === undefined ? DAY : Math.min(DAY, o.durationSeconds * 1000 * o.speed);
  let wallStart = Date.now();
  let simStart = wallStart - window;
  const now = () => Math.min(simStart + (Date.now() - wallStart) * o.speed, Date.now());
  const buildings = new BuildingComparison(config, o.seed, simStart);
  let ticker: NodeJS.Timeout | undefined;
  const step = () => buildings.advanceTo(now());
  return {
    buildings,
    now,
    get start() {
      return simStart;
    },
    run() {
      wallStart = Date.now();
      simStart = wallStart - window;
      buildings.countFrom(simStart);
      ticker = setInterval(step, TICK_MS);
    },
    stop() {
      clearInterval(ticker);
      step();
      return now();
    },
  };
}
