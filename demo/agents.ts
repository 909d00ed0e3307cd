import { join } from 'node:path';
import { BUNDLE_FILE, type BuildingConfig, type ComfortPolicy, devicesOf } from '../contracts';
import { type ActuatorDriver, type EdgePolicyOptions, loadBundle, runAgent } from '../device/main';
import type { LocalLogger } from '../local/common/log';
import type { BuildingModel } from '../sim/building-model';
import { zoneActuator, zoneSensor } from '../sim/drivers';
import { seededRandom } from '../sim/random';
import type { CountedAgent } from './books';
import type { CommandBook } from './commands';

/**
 * One real device agent per device of the building, from the bundle onboarding wrote, on
 * drivers connected to the simulated building: sensors read its zones, actuators change them.
 * The agents run on simulated time and sample only when the demo steps them (one sample per
 * simulated minute, in the building config's order), so they sample, batch and publish as they
 * would over a real day, the same way on every run.
 */

export interface DemoAgentsOptions {
  readonly config: BuildingConfig;
  readonly building: BuildingModel;
  readonly devicesDir: string;
  readonly mqtt: { readonly host: string; readonly port: number };
  readonly seed: number;
  /** Chance per reading that a humidity sensor glitches. */
  readonly glitchRate: number;
  /** The simulated clock. */
  readonly now: () => number;
  /** Where each actuator value a device applies is counted. */
  readonly commands: CommandBook;
  readonly logger: LocalLogger;
}

export async function startDemoAgents(o: DemoAgentsOptions): Promise<CountedAgent[]> {
  const glitches = seededRandom(o.seed ^ 0x91c4);
  const agents: CountedAgent[] = [];
  for (const d of devicesOf(o.config)) {
    const zone = o.building.zone(d.zone);
    const bundle = loadBundle(join(o.devicesDir, d.thing, BUNDLE_FILE));
    const actuator =
      d.drives.length > 0 ? counted(zoneActuator(zone, d.drives), d.thing, o.commands) : undefined;
    const agent = await runAgent(bundle, {
      dataDir: join(o.devicesDir, d.thing, 'agent'),
      sensors:
        d.senses.length > 0
          ? [zoneSensor(zone, d.senses, { glitchRate: o.glitchRate, random: glitches })]
          : [],
      actuators: actuator ? [actuator] : [],
      endpoint: o.mqtt,
      sampling: 'manual',
      policy: {
        sampleIntervalMs: 60_000,
        heartbeatMs: 15 * 60_000,
        maxBatchDelayMs: 10 * 60_000,
        thresholds: controlThresholds(o.config.comfort),
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

/**
 * The values at which the zone controller changes an actuator (lambda/controller/policy.ts):
 * the CO2 limits, the heating switch points around the occupied setpoint and where ventilation
 * starts cooling. A reading that crosses one goes out at once, not with the next batch, so the
 * controller acts when it should (the edge policy's `thresholds`).
 */
export function controlThresholds(c: ComfortPolicy): EdgePolicyOptions['thresholds'] {
  const h = c.temperatureHysteresis;
  return {
    co2: [c.co2Limit, c.co2HighLimit],
    temperature: [c.occupiedSetpoint - h, c.occupiedSetpoint + h, c.occupiedSetpoint + c.comfortBand - h],
  };
}

function counted(driver: ActuatorDriver, thing: string, commands: CommandBook): ActuatorDriver {
  return {
    ...driver,
    apply: async (...args: Parameters<ActuatorDriver['apply']>) => {
      commands.applied(thing, args[0], args[1]);
      return driver.apply(...args);
    },
  };
}
