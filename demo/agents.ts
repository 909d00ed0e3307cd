import { join } from 'node:path';
import { BUNDLE_FILE, type BuildingConfig, devicesOf } from '../contracts';
import { type ActuatorDriver, loadBundle, runAgent } from '../device/main';
import type { LocalLogger } from '../local/common/log';
import type { BuildingModel } from '../sim/building-model';
import { zoneActuator, zoneSensor } from '../sim/drivers';
import { seededRandom } from '../sim/random';
import type { CountedAgent } from './books';

/**
 * One real device agent per device of the building, from the bundle onboarding wrote, on
 * drivers connected to the simulated building: sensors read its zones, actuators change them.
 * The agents run on simulated time, so they sample, batch and measure outages as they would
 * over a real day.
 */

export interface DemoAgentsOptions {
  readonly config: BuildingConfig;
  readonly building: BuildingModel;
  readonly devicesDir: string;
  readonly mqtt: { readonly host: string; readonly port: number };
  readonly speed: number;
  readonly seed: number;
  /** Chance per reading that a humidity sensor glitches. */
  readonly glitchRate: number;
  /** The simulated clock. */
  readonly now: () => number;
  /** Called for each actuator value an agent applies. */
  readonly onApplied: () => void;
  readonly logger: LocalLogger;
}

export async function startDemoAgents(o: DemoAgentsOptions): Promise<CountedAgent[]> {
  const glitches = seededRandom(o.seed ^ 0x91c4);
  // Samples of all agents together stay near 200 per second, so a building of hundreds of
  // devices (examples/tower.json) does not saturate the machine the local cloud runs on.
  const devices = devicesOf(o.config).length;
  const sampleIntervalMs = Math.round(Math.min(10_000, Math.max(50, 60_000 / o.speed, devices * 5)));
  const agents: CountedAgent[] = [];
  for (const d of devicesOf(o.config)) {
    const zone = o.building.zone(d.zone);
    const bundle = loadBundle(join(o.devicesDir, d.thing, BUNDLE_FILE));
    const actuator = d.drives.length > 0 ? counted(zoneActuator(zone, d.drives), o.onApplied) : undefined;
    const agent = await runAgent(bundle, {
      dataDir: join(o.devicesDir, d.thing, 'agent'),
      sensors:
        d.senses.length > 0
          ? [zoneSensor(zone, d.senses, { glitchRate: o.glitchRate, random: glitches })]
          : [],
      actuators: actuator ? [actuator] : [],
      endpoint: o.mqtt,
      policy: {
        sampleIntervalMs,
        heartbeatMs: 15 * 60_000,
        maxBatchDelayMs: 10 * 60_000,
        thresholds: { co2: [o.config.comfort.co2Limit, o.config.comfort.co2HighLimit] },
      },
      // The agent measures outages on its clock, which is simulated time here.
      fallback: { afterMs: 30 * 60_000 },
      now: o.now,
      log: (line) => o.logger.info(`[${d.thing}] ${line}`),
    });
    const stats = agent.stats();
    agents.push({ agent, thing: d.thing, fromSeq: stats.nextSeq - stats.pending });
    // Connect in waves: hundreds of TLS handshakes at once starve the local broker, every
    // handshake times out and the retries keep it starved.
    if (agents.length % CONNECT_WAVE === 0) await onlineOrAfter(agents.slice(-CONNECT_WAVE), 15_000);
  }
  return agents;
}

const CONNECT_WAVE = 25;

/** Resolves once every agent is online, or after `ms`, whichever comes first. */
async function onlineOrAfter(wave: readonly CountedAgent[], ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (wave.some((a) => !a.agent.stats().online) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function counted(driver: ActuatorDriver, onApplied: () => void): ActuatorDriver {
  return {
    ...driver,
    apply: async (...args: Parameters<ActuatorDriver['apply']>) => {
      onApplied();
      return driver.apply(...args);
    },
  };
}
