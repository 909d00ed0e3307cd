import { readFileSync } from 'node:fs';
import { SQSClient } from '@aws-sdk/client-sqs';
import {
  type BuildingConfig,
  COMMAND_SHADOW_NAME,
  localClientConfig,
  parseBuildingConfigText,
  type Weekday,
} from '../contracts';
import { createDashboard, type Dashboard, type DashboardFigures } from '../dashboard/dashboard';
import { createDeadLetterScanner } from '../dashboard/dead-letter-scan';
import { readerFromOutputs } from '../dashboard/readings/from-outputs';
import type { LocalCloud } from '../local/cloud';
import { errorText, type LocalLogger } from '../local/common/log';
import { type SimulatedWindow, simulatedWindow } from '../sim/day';
import { startDemoAgents } from './agents';
import { type Books, type CountedAgent, createBookKeeper } from './books';
import { createCommandBook } from './commands';
import { createSettler, waitUntil } from './settle';
import { type Deployed, setUpPipeline } from './setup';
import { createSimulation } from './simulation';
import type { DemoSummary } from './summary';

/**
 * The whole pipeline on one laptop: onboard every device of the building, synthesize the CDK
 * app, start the local cloud, deploy the assembly, finish onboarding (demo/setup.ts), and run one
 * real device agent per device on drivers connected to a simulated building (demo/agents.ts),
 * with the dashboard on the local cloud's API port. The books (demo/books.ts) say whether every
 * acknowledged reading was stored or dead-lettered; a fixed-schedule twin of the building (same
 * weather, same people) gives the energy and comfort comparison (sim/comparison.ts).
 *
 * Reproducible by construction. The same options give the same summary (books, commands,
 * energy, comfort: demo/summary.ts), byte for byte, whenever and wherever the demo runs:
 *
 * - What is simulated is fixed by the options, not by the hour: a working day of one weekday of
 *   the building's schedule, two hours before opening to one after closing (sim/day.ts), on the
 *   latest such date the store accepts readings for. Weather, people and the schedule depend on
 *   the time of day and the seed only.
 * - Each run starts from an empty local cloud and empty device buffers (demo/state-dir.ts), so
 *   no reading, shadow or sequence number of an earlier run takes part.
 * - Simulated time moves in steps of one minute (demo/simulation.ts). At each step the
 *   buildings advance, then the devices sample one after the other in the building config's
 *   order; after each device that published, the demo waits until the pipeline has settled
 *   (demo/settle.ts): the broker acknowledged the message, the rules engine ran its actions, the
 *   zone controller decided and wrote the command shadows, and every actuator device applied the
 *   shadow delta. Only then does the next device sample. So the controller sees the readings in
 *   the same order and its commands reach the simulated building at the same simulated time on
 *   every run, however long the pipeline takes in wall-clock time; `speed` only paces the steps.
 * - The zone controller runs on the building's clock, which in a simulated building is the
 *   simulated time its readings carry (the demo deploys it so: demo/synth.ts), so operator
 *   overrides end in simulated time too.
 * - Random draws (weather, people, sensor noise, glitches) come from seeded generators, used in
 *   the same order because the devices sample in a fixed order.
 *
 * The ingest path (queue, ingest function, store) is asynchronous and not waited for at each
 * step: it decides nothing. `stop()` waits for it until every acknowledged reading is stored or
 * dead-lettered. If the pipeline fails to settle at a step (a failing controller waiting for its
 * retries), the demo goes on after a timeout and the summary says the run may not repeat.
 */

export type { Books, DemoSummary };

export interface DemoOptions {
  readonly repoRoot: string;
  readonly configPath: string;
  readonly stateDir: string;
  /** Simulated seconds per wall-clock second, at most; 'max' runs as fast as the pipeline settles. */
  readonly speed: number | 'max';
  readonly seed: number;
  /** Simulated hours from the start of the window. @default the working day (sim/day.ts) */
  readonly hours?: number;
  /** The weekday to simulate. @default the first day of the schedule */
  readonly day?: Weekday;
  readonly headless: boolean;
  readonly mqttPort: number;
  readonly apiPort: number;
  /** Chance per reading that the humidity sensors glitch (the pipeline dead-letters those readings). */
  readonly glitchRate: number;
  readonly logger: LocalLogger;
  readonly progress: (step: number, of: number, title: string, detail?: string) => void;
  /** The wall clock, for choosing the simulated date. @default Date.now */
  readonly wallClock?: () => number;
}

export interface Demo {
  readonly dashboardUrl?: string;
  readonly startupMs: number;
  readonly cloud: LocalCloud;
  readonly window: SimulatedWindow;
  /** The simulated time now (epoch ms). */
  simNow(): number;
  figures(): DashboardFigures;
  /** Resolves when the simulated window has been run to its end (or `stop()` ended it). */
  readonly finished: Promise<void>;
  /**
   * Ends the simulation, waits for the pipeline to account for every reading (up to
   * `budgetMs` of wall-clock time in all), and returns the summary.
   */
  stop(options?: StopOptions): Promise<DemoSummary>;
  /** Ends the wait of a `stop()` under way now (a second Ctrl-C): the summary says what was left. */
  hurry(): void;
  /** Closes the local cloud. */
  close(): Promise<void>;
}

export interface StopOptions {
  /** @default 60_000 */
  readonly budgetMs?: number;
  /** Called every few seconds while the stop waits, with what it waits for. */
  readonly waiting?: (what: string) => void;
}

const STEPS = 7;
/** How often the books are counted while the demo runs, for the dashboard. */
const BOOKS_EVERY_MS = 3000;
/** How long `stop()` waits, in all, for the pipeline to account for every acknowledged reading. */
const STOP_BUDGET_MS = 60_000;
/** How often a waiting `stop()` says what it waits for. */
const STOP_PROGRESS_MS = 5_000;
/** How long the agents may take to connect. */
const ONLINE_MS = 60_000;
const HOUR = 3_600_000;

/** How far back the store accepts readings: the stack enables magnetic store writes. */
export function storeAcceptsBackMs(config: BuildingConfig): number {
  return Math.max(
    config.storage.memoryRetentionHours * HOUR,
    config.storage.magneticRetentionDays * 24 * HOUR,
  );
}

export async function startDemo(o: DemoOptions): Promise<Demo> {
  const started = Date.now();
  const config = parseBuildingConfigText(readFileSync(o.configPath, 'utf8'), o.configPath);
  // Checked first: a window the store cannot hold fails before any work.
  const window = simulatedWindow(config.comfort, {
    now: (o.wallClock ?? Date.now)(),
    day: o.day,
    hours: o.hours,
    acceptsBackMs: storeAcceptsBackMs(config),
  });
  const { cloud, deployed } = await setUpPipeline({ ...o, simulatedClock: true }, (step, title, detail) =>
    o.progress(step, STEPS, title, detail),
  );
  try {
    return await runDemo(o, config, window, cloud, started, deployed);
  } catch (err) {
    await cloud.close();
    throw err;
  }
}

/** Steps 6 and 7: the dashboard, then the agents on the simulated building; the books from then on. */
async function runDemo(
  o: DemoOptions,
  config: BuildingConfig,
  window: SimulatedWindow,
  cloud: LocalCloud,
  started: number,
  deployed: Deployed,
): Promise<Demo> {
  const clientConfig = localClientConfig(cloud.endpoints);
  const readings = readerFromOutputs(deployed.outputs, clientConfig, {
    caPem: readFileSync(cloud.endpoints.caFile, 'utf8'),
  });
  const sqs = new SQSClient(clientConfig);
  const simulation = createSimulation(config, { speed: o.speed, seed: o.seed, window });
  const { buildings } = simulation;
  const commands = createCommandBook(cloud.broker);
  const agents: CountedAgent[] = [];
  const settler = createSettler({
    cloud,
    buildingId: config.buildingId,
    controlQueueUrl: deployed.controlQueueUrl,
    agents: () => agents,
    commands,
    logger: o.logger,
  });
  // One reader of the dead-letter queue at a time: the books and the dashboard share it.
  const deadLetters = createDeadLetterScanner(sqs, deployed.deadLetterQueueUrl);
  const books = createBookKeeper({
    readings,
    deadLetters,
    since: started,
    agents: () => agents,
  });

  // 6. The dashboard, served by the local cloud.
  const figures = (): DashboardFigures => {
    const last = books.last();
    const c = commands.counts();
    return {
      books: last
        ? {
            published: last.published,
            stored: last.stored,
            deadLettered: last.deadLettered,
            inFlight: last.unaccounted,
          }
        : undefined,
      commandsIssued: c.issued,
      commandsApplied: c.applied,
      energy: buildings.energy(),
      comfort: buildings.comfort(),
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
      deadLetters,
      clock: simulation.now,
      figures,
    });
    cloud.addRoute(dashboard.route);
  }
  const dashboardUrl = dashboard ? `${cloud.endpoints.apiEndpoint}/dashboard/` : undefined;
  o.progress(6, STEPS, o.headless ? 'dashboard skipped (headless)' : 'serving the dashboard', dashboardUrl);

  // 7. One real agent per device, on drivers connected to the simulated building; the
  // simulated day starts once every agent is connected and has reported its actuators.
  agents.push(
    ...(await startDemoAgents({
      config,
      building: buildings.controlled,
      devicesDir: deployed.devicesDir,
      mqtt: { host: cloud.endpoints.mqttHost, port: cloud.endpoints.mqttPort },
      seed: o.seed,
      glitchRate: o.glitchRate,
      now: simulation.now,
      commands,
      logger: o.logger,
    })),
  );
  await waitUntilReady(cloud, agents);
  await settler.settle();
  const startupMs = Date.now() - started;
  o.progress(
    7,
    STEPS,
    'running the simulated building',
    `${agents.length} agents, ${o.speed === 'max' ? 'as fast as the pipeline settles' : `${o.speed}x speed`}`,
  );

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

  const sensing = agents.filter((a) => a.agent.bundle.senses.length > 0);
  const runStarted = Date.now();
  let simulatedInMs = 0;
  let kpis: Pick<DemoSummary, 'commands' | 'energy' | 'comfort'> | undefined;
  const finished = simulation
    .run(async () => {
      for (const a of sensing) {
        const before = a.agent.stats();
        await a.agent.sample();
        await a.agent.idle();
        const after = a.agent.stats();
        if (after.messages !== before.messages) {
          await settler.settle(after.messages - before.messages);
          o.logger.info(
            `[sim ${simClock(simulation.now())}] ${a.thing} published ${after.published - before.published} readings; commands ${JSON.stringify(commands.counts())}; energy ${buildings.energy().controlledKWh.toFixed(4)}`,
          );
        }
      }
    })
    .then(async () => {
      simulatedInMs = Date.now() - runStarted;
      // What the devices still hold goes out now, one device at a time like every step.
      for (const a of agents) {
        const before = a.agent.stats().messages;
        await a.agent.flush();
        await settler.settle(a.agent.stats().messages - before);
      }
      kpis = { commands: commands.counts(), energy: buildings.energy(), comfort: buildings.comfort() };
      o.logger.info(
        `simulated ${window.fromHhmm}-${window.toHhmm} in ${(simulatedInMs / 1000).toFixed(1)} s`,
      );
    });

  const summaryOf = (b: Books): DemoSummary => {
    const { year, month, day, weekday } = window.date;
    return {
      seed: o.seed,
      window: {
        from: window.from,
        to: window.to,
        reached: simulation.now(),
        weekday,
        date: `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`,
        fromHhmm: window.fromHhmm,
        toHhmm: window.toHhmm,
        timezone: config.comfort.timezone,
      },
      books: b,
      messages: agents.reduce((s, a) => s + a.agent.stats().messages, 0),
      // A stop whose budget ran out during the last flush has no end-of-run figures: these are as far as the run got.
      ...(kpis ?? { commands: commands.counts(), energy: buildings.energy(), comfort: buildings.comfort() }),
      run: { startupMs, simulatedInMs, settleTimeouts: settler.timeouts },
    };
  };

  let stopped: DemoSummary | undefined;
  let stopDeadline = Number.POSITIVE_INFINITY;
  return {
    dashboardUrl,
    startupMs,
    cloud,
    window,
    simNow: simulation.now,
    figures,
    finished,
    async stop(options = {}) {
      if (stopped) return stopped;
      stopDeadline = Math.min(stopDeadline, Date.now() + (options.budgetMs ?? STOP_BUDGET_MS));
      settler.hurry(stopDeadline);
      let doing = 'the simulation step under way';
      const progress = setInterval(() => {
        options.waiting?.(settler.waitingFor() ?? doing);
      }, STOP_PROGRESS_MS);
      try {
        simulation.stop();
        await waitUntil(finished, stopDeadline);
        clearTimeout(booksTimer);
        doing = 'the device agents to flush and disconnect';
        await waitUntil(Promise.all(agents.map((a) => a.agent.stop())), stopDeadline);
        // Let the ingest path settle: rules, the ingest queue and its function.
        doing = 'the readings to be stored or dead-lettered';
        let b = await books.count();
        while (b.unaccounted !== 0 && Date.now() < stopDeadline) {
          await waitUntil(cloud.rules.drain(), stopDeadline);
          await new Promise((r) => setTimeout(r, 500));
          b = await books.count();
        }
        doing = 'the asynchronous Lambda invocations';
        await waitUntil(cloud.lambda.drainAsync(), stopDeadline);
        if (Date.now() >= stopDeadline) {
          o.logger.warn(`stopping: gave up waiting for ${doing} after the stop's budget`);
        }
        commands.close();
        settler.close();
        stopped = summaryOf(b);
        return stopped;
      } finally {
        clearInterval(progress);
      }
    },
    hurry() {
      stopDeadline = Date.now();
      settler.hurry(stopDeadline);
    },
    async close() {
      await dashboard?.close();
      readings.close();
      sqs.destroy();
      await cloud.close();
    },
  };
}

const simClock = (at: number) => new Date(at).toISOString().slice(11, 16);

/** Waits until every agent is connected and every actuator has reported to its command shadow. */
async function waitUntilReady(cloud: LocalCloud, agents: readonly CountedAgent[]): Promise<void> {
  const deadline = Date.now() + ONLINE_MS;
  const notReady = () =>
    agents.filter((a) => {
      if (!a.agent.stats().online) return true;
      if (a.agent.bundle.drives.length === 0) return false;
      try {
        const doc = cloud.shadow.api.get(a.thing, COMMAND_SHADOW_NAME) as {
          state?: { reported?: { mode?: string } };
        };
        return doc.state?.reported?.mode === undefined;
      } catch {
        return true;
      }
    });
  let waiting = notReady();
  while (waiting.length > 0) {
    if (Date.now() > deadline) {
      throw new Error(
        `${waiting.map((a) => a.thing).join(', ')} did not connect and report within ${ONLINE_MS / 1000} s; see the log`,
      );
    }
    await new Promise((r) => setTimeout(r, 20));
    waiting = notReady();
  }
}
