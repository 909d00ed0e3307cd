/**
 * The demo's stepped simulated time, without the pipeline: one step per simulated minute, the
 * buildings advanced before each step, and results that depend on the time of day only, never
 * on the date.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseBuildingConfigText } from '../../contracts';
import { createSimulation, STEP_MS } from '../../demo/simulation';
import { simulatedWindow } from '../../sim/day';

const config = parseBuildingConfigText(readFileSync('building.json', 'utf8'), 'building.json');
const DAY = 24 * 3_600_000;

function windowAt(now: number, hours = 4) {
  return simulatedWindow(config.comfort, { now, hours, acceptsBackMs: 365 * DAY });
}

/** Runs a window with every zone heated below 20 degC, reading every sensor each step. */
async function runWindow(now: number, hours = 4) {
  const simulation = createSimulation(config, { speed: 'max', seed: 7, window: windowAt(now, hours) });
  const steps: number[] = [];
  await simulation.run(async (t) => {
    steps.push(t);
    for (const zone of simulation.buildings.controlled.zones.values()) {
      zone.sense('temperature');
      zone.actuators.heating = zone.temperature < 20 ? 'on' : 'off';
    }
  });
  return { simulation, steps };
}

describe('the stepped simulation', () => {
  it('steps every simulated minute from the start to the end of the window, buildings advanced first', async () => {
    const { simulation, steps } = await runWindow(Date.UTC(2026, 10, 27, 10, 0));
    const { window } = simulation;
    expect(steps[0]).toBe(window.from);
    expect(steps.at(-1)).toBe(window.to);
    expect(steps).toHaveLength((window.to - window.from) / STEP_MS + 1);
    expect(simulation.buildings.controlled.now).toBe(window.to);
    expect(simulation.completed).toBe(true);
  });

  it('gives the same energy and comfort on another date of the same weekday', async () => {
    const a = await runWindow(Date.UTC(2026, 10, 27, 10, 0));
    const b = await runWindow(Date.UTC(2027, 2, 5, 10, 0));
    expect(b.simulation.window.from).not.toBe(a.simulation.window.from);
    expect(b.simulation.buildings.energy()).toEqual(a.simulation.buildings.energy());
    expect(b.simulation.buildings.comfort()).toEqual(a.simulation.buildings.comfort());
  });

  it('stops after the step during which it was told to', async () => {
    const simulation = createSimulation(config, {
      speed: 'max',
      seed: 1,
      window: windowAt(Date.UTC(2026, 10, 27, 10, 0)),
    });
    let steps = 0;
    await simulation.run(async () => {
      if (++steps === 10) simulation.stop();
    });
    expect(steps).toBe(10);
    expect(simulation.completed).toBe(false);
    expect(simulation.now()).toBe(simulation.window.from + 9 * STEP_MS);
  });

  it('paces the steps against the wall clock at a finite speed', async () => {
    // 2 simulated minutes at 1200x: 60 ms at least between the first and last step.
    const w = windowAt(Date.UTC(2026, 10, 27, 10, 0), 2 / 60);
    const simulation = createSimulation(config, { speed: 1200, seed: 1, window: w });
    const started = Date.now();
    await simulation.run(async () => undefined);
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
  });
});
