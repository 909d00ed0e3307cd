import { readFileSync } from 'node:fs';
import { SQSClient } from '@aws-sdk/client-sqs';
import {
  ACTUATOR_KINDS,
  acceptedDesired,
  type BuildingConfig,
  COMMAND_SHADOW_ACCEPTED_FILTER,
  localClientConfig,
} from '../contracts';
import { createDashboard, type Dashboard, type DashboardFigures } from '../dashboard/dashboard';
import { readerFromOutputs } from '../dashboard/readings/from-outputs';
import type { LocalCloud } from '../local/cloud';
import { errorText, type LocalLogger } from '../local/common/log';
import { startDemoAgents } from './agents';
import { type Books, createBookKeeper } from './books';
import { type Deployed, setUpPipeline } from './setup';
import { createSimulation } from './simulation';

/**
 * The whole pipeline on one laptop: onboard every device of the building, synthesize the CDK
 * app, start the local cloud, deploy the assembly, finish onboarding (demo/setup.ts), and run one real device
 * agent per device on drivers connected to a simulated building (demo/agents.ts), with the
 * dashboard on the local cloud's API port. Time runs `speed` times faster than the wall clock
 * and ends at the present (demo/simulation.ts). The books (demo/books.ts) say whether every
 * acknowledged reading was stored or dead-lettered.
 *
 * A fixed-schedule baseline runs beside it on a second copy of the building (same weather,
 * same people) for the energy comparison. Energy and comfort are simulation results.
 */

export type { Books };

export interface DemoOptions {
  readonly repoRoot: string;
  readonly configPath: string;
  readonly stateDir: string;
  /** Simulated seconds per wall-clock second. */
  readonly speed: number;
  readonly seed: number;
  /** Wall-clock seconds the simulation runs for; undefined = until stopped. */
  readonly durationSeconds?: number;
  readonly headless: boolean;
  readonly mqttPort: number;
  readonly apiPort: number;
  /** Chance per reading that the humidity sensors glitch (the pipeline dead-letters those readings). */
  readonly glitchRate: number;
  readonly logger: LocalLogger;
  readonly progress: (step: number, of: number, title: string, detail?: string) => void;
}

export interface DemoSummary {
  readonly books: Books;
  readonly commandsIssued: number;
  readonly commandsApplied: number;
  readonly energy: { readonly controlledKWh: number; readonly baselineKWh: number };
  readonly comfort: Record<string, { controlled: number | null; baseline: number | null }>;
  readonly simulated: { readonly from: number; readonly to: number };
  readonly startupMs: number;
  readonly messages: number;
}

export interface Demo {
  readonly dashboardUrl?: string;
  readonly startupMs: number;
  readonly cloud: LocalCloud;
  readonly simStart: number;
  simNow(): number;
  figures(): DashboardFigures;
  /** Stops agents and the simulation, waits for the pipeline to settle, and returns the books. */
  stop(): Promise<DemoSummary>;
  /** Closes the local cloud. */
  close(): Promise<void>;
}

const STEPS = 7;
/** How often the books are counted while the demo runs, for the dashboard. */
const BOOKS_EVERY_MS = 3000;
/** How long `stop()` waits for the pipeline to account for every acknowledged reading. */
const SETTLE_MS = 60_000;

export async function startDemo(o: DemoOptions): Promise<Demo> {
  const started = Date.now();
  const { config, cloud, deployed } = await setUpPipeline(o, (step, title, detail) =>
    o.progress(step, STEPS, title, detail),
  );
  try {
    return await runDemo(o, config, cloud, started, deployed);
  } catch (err) {
    await cloud.close();
    throw err;
  }
}

/** Steps 6 and 7: the dashboard, then the agents on the simulated building; the books from then on. */
async function runDemo(
  o: DemoOptions,
  config: BuildingConfig,
  cloud: LocalCloud,
  started: number,
  deployed: Deployed,
): Promise<Demo> {
  const clientConfig = localClientConfig(cloud.endpoints);
  const readings = readerFromOutputs(deployed.outputs, clientConfig, {
    caPem: readFileSync(cloud.endpoints.caFile, 'utf8'),
  });
  const sqs = new SQSClient(clientConfig);
  const simulation = createSimulation(config, o);
  const { buildings } = simulation;

  // Commands as the pipeline issued them (desired changes accepted by the shadow service) and
  // as the devices applied them (actuator driver calls).
  let commandsIssued = 0;
  let commandsApplied = 0;
  const unsubscribe = cloud.broker.subscribe(COMMAND_SHADOW_ACCEPTED_FILTER, (m) => {
    const desired = acceptedDesired(m.payload);
    if (desired)
      commandsIssued += ACTUATOR_KINDS.filter((k) => desired[k] !== undefined && desired[k] !== null).length;
  });

  const agents: Awaited<ReturnType<typeof startDemoAgents>> = [];
  const books = createBookKeeper({
    readings,
    sqs,
    deadLetterQueueUrl: deployed.deadLetterQueueUrl,
    since: started,
    agents: () => agents,
  });

  // 6. The dashboard, served by the local cloud.
  const figures = (): DashboardFigures => {
    const last = books.last();
    return {
      books: last
        ? {
            published: last.published,
            stored: last.stored,
            deadLettered: last.deadLettered,
            inFlight: last.unaccounted,
          }
        : undefined,
      commandsIssued,
      commandsApplied,
      energy: buildings.energy(),
      comfort: Object.fromEntries(
        Object.entries(buildings.comfort()).map(([zone, c]) => [zone, c.controlled]),
      ),
    };
  };
  let dashboard: Dashboard | undefined;
  if (!o.headless) {
    dashboard = await createDashboard({
      config,
      apiEndpoint: cloud.endpoints.apiEndpoint,
      region: cloud.endpoints.region,
      bus: cloud.broker,
      readings,
      deadLetterQueueUrl: deployed.deadLetterQueueUrl,
      clock: simulation.now,
      figures,
    });
    cloud.addRoute(dashboard.route);
  }
  const dashboardUrl = dashboard ? `${cloud.endpoints.apiEndpoint}/dashboard/` : undefined;
  o.progress(6, STEPS, o.headless ? 'dashboard skipped (headless)' : 'serving the dashboard', dashboardUrl);

  // 7. One real agent per device, on drivers connected to the simulated building.
  agents.push(
    ...(await startDemoAgents({
      config,
      building: buildings.controlled,
      devicesDir: deployed.devicesDir,
      mqtt: { host: cloud.endpoints.mqttHost, port: cloud.endpoints.mqttPort },
      speed: o.speed,
      seed: o.seed,
      glitchRate: o.glitchRate,
      now: simulation.now,
      onApplied: () => {
        commandsApplied++;
      },
      logger: o.logger,
    })),
  );
  // The simulated day starts when the agents are up.
  simulation.run();
  const startupMs = Date.now() - started;
  o.progress(7, STEPS, 'running the simulated building', `${agents.length} agents, ${o.speed}x speed`);

  let booksTimer: NodeJS.Timeout | undefined;
  const refreshBooks = () => {
    books
      .count()
      .catch((err) => o.logger.warn(`could not read the books: ${errorText(err)}`))
      .finally(() => {
        booksTimer = setTimeout(refreshBooks, BOOKS_EVERY_MS);
      });
  };
  booksTimer = setTimeout(refreshBooks, BOOKS_EVERY_MS);

  let stopped: DemoSummary | undefined;
  return {
    dashboardUrl,
    startupMs,
    cloud,
    get simStart() {
      return simulation.start;
    },
    simNow: simulation.now,
    figures,
    async stop() {
      if (stopped) return stopped;
      clearTimeout(booksTimer);
      const simEnd = simulation.stop();
      await Promise.all(agents.map((a) => a.agent.stop()));
      // Let the pipeline settle: rules, the ingest queue and its function, async invocations.
      const deadline = Date.now() + SETTLE_MS;
      let b = await books.count();
      while (b.unaccounted !== 0 && Date.now() < deadline) {
        await cloud.rules.drain();
        await new Promise((r) => setTimeout(r, 1000));
        b = await books.count();
      }
      await cloud.lambda.drainAsync();
      unsubscribe();
      stopped = {
        books: b,
        commandsIssued,
        commandsApplied,
        energy: buildings.energy(),
        comfort: buildings.comfort(),
        simulated: { from: simulation.start, to: simEnd },
        startupMs,
        messages: agents.reduce((s, a) => s + a.agent.stats().messages, 0),
      };
      return stopped;
    },
    async close() {
      await dashboard?.close();
      readings.close();
      sqs.destroy();
      await cloud.close();
    },
  };
}
