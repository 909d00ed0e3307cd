import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ChangeMessageVisibilityBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { QueryCommand, TimestreamQueryClient } from '@aws-sdk/client-timestream-query';
import {
  ACTUATOR_KINDS,
  BUNDLE_FILE,
  type BuildingConfig,
  buildingStackName,
  COMMAND_SHADOW_NAME,
  describeDeadLetter,
  devicesOf,
  localClientConfig,
  PRIVATE_KEY_FILE,
  parseBuildingConfigText,
  READING_MEASURE_NAME,
  STACK_OUTPUT,
} from '../contracts';
import { createDashboard, type Dashboard, type DashboardFigures } from '../dashboard/server';
import { type Agent, loadBundle, runAgent } from '../device/main';
import { type LocalCloud, startLocalCloud } from '../local/cloud';
import { errorText, type LocalLogger } from '../local/common/log';
import { finishOnboarding, startOnboarding, targetFor } from '../provisioning/onboard';
import { baselineSetting } from './baseline';
import { BuildingModel } from './building-model';
import { ComfortMeter } from './comfort';
import { zoneActuator, zoneSensor } from './drivers';
import { seededRandom } from './random';
import { synthesize } from './synth';
import { createWeather } from './weather';

/**
 * The whole pipeline on one laptop: onboard every device of the building, synthesize the CDK
 * app, start the local cloud, deploy the assembly, finish onboarding, and run one real device
 * agent per device on drivers connected to a simulated building, with the dashboard on the
 * local cloud's API port. Time runs `speed` times faster than the wall clock and ends at the
 * present, so every reading's timestamp is a real, recent time inside the store's window;
 * once the simulation catches up with the wall clock it goes on in real time.
 *
 * A fixed-schedule baseline runs beside it on a second copy of the building (same weather,
 * same people) for the energy comparison. Energy and comfort are simulation results.
 */

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

export interface Books {
  readonly published: number;
  readonly stored: number;
  readonly deadLettered: number;
  /** published - stored - deadLettered: zero when every acknowledged reading is accounted for. */
  readonly unaccounted: number;
  readonly pending: number;
  readonly dropped: number;
  readonly deadLetterReasons: Record<string, number>;
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
const DAY = 24 * 3_600_000;

export async function startDemo(o: DemoOptions): Promise<Demo> {
  const started = Date.now();
  const stateDir = resolve(o.stateDir);
  const csrDir = join(stateDir, 'csr');
  const devicesDir = join(stateDir, 'devices');
  const cloudDir = join(stateDir, 'local');
  mkdirSync(stateDir, { recursive: true });
  const config = parseBuildingConfigText(readFileSync(o.configPath, 'utf8'), o.configPath);
  const devices = devicesOf(config);

  // 1. Onboard: a key pair and CSR per device, made here; keys are reused on later runs.
  let made = 0;
  for (const d of devices) {
    if (existsSync(join(devicesDir, d.thing, PRIVATE_KEY_FILE))) continue;
    await startOnboarding({ thing: d.thing, configPath: o.configPath, csrDir, devicesDir });
    made++;
  }
  o.progress(1, STEPS, 'onboarded devices', `${devices.length} devices, ${made} new key pairs and CSRs`);

  // 2. Synthesize the CDK app with those CSRs.
  const synth = await synthesize({
    repoRoot: o.repoRoot,
    configPath: o.configPath,
    csrDir,
    outDir: join(stateDir, 'cdk.out'),
  });
  o.progress(
    2,
    STEPS,
    'synthesized the CDK app',
    synth.cached ? 'unchanged, reused' : `${(synth.ms / 1000).toFixed(1)} s`,
  );

  // 3. The local cloud.
  const cloud = await startCloudWithFallback(cloudDir, o);
  o.progress(
    3,
    STEPS,
    'started the local cloud',
    `MQTT ${cloud.endpoints.mqttPort}, APIs ${cloud.endpoints.apiEndpoint}`,
  );

  try {
    // 4. Deploy the assembly.
    const deployed = await cloud.deploy(synth.outDir);
    const counts = new Map<string, number>();
    for (const l of deployed.report) counts.set(l.status, (counts.get(l.status) ?? 0) + 1);
    o.progress(4, STEPS, 'deployed the stack locally', [...counts].map(([s, n]) => `${n} ${s}`).join(', '));
    const outputs = deployed.outputs[buildingStackName(config.buildingId)] ?? {};
    const output = (key: string) => {
      const v = outputs[key];
      if (typeof v !== 'string') throw new Error(`the deployed stack has no output ${key}`);
      return v;
    };

    // 5. Finish onboarding: fetch each signed certificate and write the device bundles.
    const target = targetFor({ local: true, stateDir: cloudDir });
    for (const d of devices) {
      await finishOnboarding({ thing: d.thing, configPath: o.configPath, devicesDir, target });
    }
    o.progress(
      5,
      STEPS,
      'finished onboarding',
      `${devices.length} device bundles with certificates from the local CA`,
    );

    return await runSimulation(o, config, cloud, started, {
      devicesDir,
      database: output(STACK_OUTPUT.timestreamDatabase),
      table: output(STACK_OUTPUT.timestreamTable),
      deadLetterQueueUrl: output(STACK_OUTPUT.deadLetterQueueUrl),
    });
  } catch (err) {
    await cloud.close();
    throw err;
  }
}

async function startCloudWithFallback(cloudDir: string, o: DemoOptions): Promise<LocalCloud> {
  try {
    return await startLocalCloud({
      stateDir: cloudDir,
      mqttPort: o.mqttPort,
      apiPort: o.apiPort,
      logger: o.logger,
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    o.logger.warn(`port in use (${errorText(err)}); using free ports instead`);
    return startLocalCloud({ stateDir: cloudDir, mqttPort: 0, apiPort: 0, logger: o.logger });
  }
}

interface Deployed {
  readonly devicesDir: string;
  readonly database: string;
  readonly table: string;
  readonly deadLetterQueueUrl: string;
}

async function runSimulation(
  o: DemoOptions,
  config: BuildingConfig,
  cloud: LocalCloud,
  started: number,
  deployed: Deployed,
): Promise<Demo> {
  const clientConfig = localClientConfig(cloud.endpoints);
  const query = new TimestreamQueryClient(clientConfig);
  const sqs = new SQSClient(clientConfig);
  const devices = devicesOf(config);

  // The simulated clock: `window` of simulated time ending now, run `speed` times faster.
  const window = o.durationSeconds === undefined ? DAY : Math.min(DAY, o.durationSeconds * 1000 * o.speed);
  let wallStart = Date.now();
  let simStart = wallStart - window;
  const simNow = () => Math.min(simStart + (Date.now() - wallStart) * o.speed, Date.now());
  const weather = createWeather({ seed: o.seed });
  const model = new BuildingModel(config, weather, o.seed, simStart);
  const baseline = new BuildingModel(config, weather, o.seed, simStart);
  const meters = new Map(config.zones.map((z) => [z.id, new ComfortMeter(config.comfort)]));
  const baselineMeters = new Map(config.zones.map((z) => [z.id, new ComfortMeter(config.comfort)]));

  // Commands as the pipeline issued them (desired changes accepted by the shadow service) and
  // as the devices applied them (actuator driver calls).
  let commandsIssued = 0;
  let commandsApplied = 0;
  const unsubscribe = cloud.broker.subscribe(
    `$aws/things/+/shadow/name/${COMMAND_SHADOW_NAME}/update/accepted`,
    (m) => {
      try {
        const desired = (
          JSON.parse(m.payload.toString('utf8')) as { state?: { desired?: Record<string, unknown> } }
        ).state?.desired;
        if (desired)
          commandsIssued += ACTUATOR_KINDS.filter(
            (k) => desired[k] !== undefined && desired[k] !== null,
          ).length;
      } catch {
        // not a document: the shadow service never publishes one
      }
    },
  );

  // 6. The dashboard, served by the local cloud.
  let dashboard: Dashboard | undefined;
  let lastBooks: Books | undefined;
  const figures = (): DashboardFigures => ({
    books: lastBooks
      ? {
          published: lastBooks.published,
          stored: lastBooks.stored,
          deadLettered: lastBooks.deadLettered,
          inFlight: lastBooks.unaccounted,
        }
      : undefined,
    commandsIssued,
    commandsApplied,
    energy: { controlledKWh: model.totalEnergyKWh(), baselineKWh: baseline.totalEnergyKWh() },
    comfort: Object.fromEntries([...meters].map(([zone, m]) => [zone, m.temperatureShare ?? null])),
  });
  if (!o.headless) {
    dashboard = await createDashboard({
      config,
      apiEndpoint: cloud.endpoints.apiEndpoint,
      region: cloud.endpoints.region,
      bus: cloud.broker,
      timestream: { database: deployed.database, table: deployed.table },
      deadLetterQueueUrl: deployed.deadLetterQueueUrl,
      clock: simNow,
      figures,
    });
    cloud.addRoute(dashboard.route);
  }
  const dashboardUrl = dashboard ? `${cloud.endpoints.apiEndpoint}/dashboard/` : undefined;
  o.progress(6, STEPS, o.headless ? 'dashboard skipped (headless)' : 'serving the dashboard', dashboardUrl);

  // 7. One real agent per device, on drivers connected to the simulated building.
  const glitches = seededRandom(o.seed ^ 0x91c4);
  const sampleIntervalMs = Math.round(Math.min(10_000, Math.max(50, 60_000 / o.speed)));
  const agents: Array<{ agent: Agent; thing: string; fromSeq: number }> = [];
  for (const d of devices) {
    const zone = model.zone(d.zone);
    const bundle = loadBundle(join(deployed.devicesDir, d.thing, BUNDLE_FILE));
    const actuator = d.drives.length > 0 ? zoneActuator(zone, d.drives) : undefined;
    const counted = actuator && {
      ...actuator,
      apply: async (...args: Parameters<typeof actuator.apply>) => {
        commandsApplied++;
        return actuator.apply(...args);
      },
    };
    const agent = await runAgent(bundle, {
      dataDir: join(deployed.devicesDir, d.thing, 'agent'),
      sensors:
        d.senses.length > 0
          ? [zoneSensor(zone, d.senses, { glitchRate: o.glitchRate, random: glitches })]
          : [],
      actuators: counted ? [counted] : [],
      endpoint: { host: cloud.endpoints.mqttHost, port: cloud.endpoints.mqttPort },
      policy: {
        sampleIntervalMs,
        heartbeatMs: 15 * 60_000,
        maxBatchDelayMs: 10 * 60_000,
        thresholds: { co2: [config.comfort.co2Limit, config.comfort.co2HighLimit] },
      },
      // The agent measures outages on its clock, which is simulated time here.
      fallback: { afterMs: 30 * 60_000 },
      now: simNow,
      log: (line) => o.logger.info(`[${d.thing}] ${line}`),
    });
    const stats = agent.stats();
    agents.push({ agent, thing: d.thing, fromSeq: stats.nextSeq - stats.pending });
  }
  // The simulated day starts when the agents are up.
  wallStart = Date.now();
  simStart = wallStart - window;
  let last = simStart;
  const step = () => {
    const now = simNow();
    if (now <= last) return;
    for (const zone of baseline.zones.values())
      Object.assign(zone.actuators, baselineSetting(config.comfort, zone, last));
    for (const [id, zone] of model.zones) meters.get(id)!.record(last, now - last, zone);
    for (const [id, zone] of baseline.zones) baselineMeters.get(id)!.record(last, now - last, zone);
    model.advanceTo(now);
    baseline.advanceTo(now);
    last = now;
  };
  const ticker = setInterval(step, 100);
  const startupMs = Date.now() - started;
  o.progress(7, STEPS, 'running the simulated building', `${agents.length} agents, ${o.speed}x speed`);

  let tableHasReadings = false;
  const countStored = async (): Promise<number> => {
    const ranges = agents.map((a) => `(thing = '${a.thing}' AND seq >= ${a.fromSeq})`).join(' OR ');
    // Timestream creates dimension and measure columns with the first record that has them.
    if (!tableHasReadings) {
      const probe = await cloud.timestream.query(
        `SELECT count(*) FROM "${deployed.database}"."${deployed.table}"`,
      );
      if (Number(probe.Rows[0]?.Data[0]?.ScalarValue ?? 0) === 0) return 0;
      tableHasReadings = true;
    }
    const out = await query.send(
      new QueryCommand({
        QueryString:
          `SELECT count(*) AS n FROM "${deployed.database}"."${deployed.table}" ` +
          `WHERE measure_name = '${READING_MEASURE_NAME}' AND (${ranges})`,
      }),
    );
    return Number(out.Rows?.[0]?.Data?.[0]?.ScalarValue ?? 0);
  };

  // Reads every dead letter without consuming it: each is hidden while it is counted and made
  // visible again right after, so the dashboard and later counts still see it.
  const countDeadLetters = async (): Promise<{ readings: number; reasons: Record<string, number> }> => {
    const seen = new Set<string>();
    const handles: Array<{ Id: string; ReceiptHandle: string }> = [];
    const reasons: Record<string, number> = {};
    let readings = 0;
    try {
      for (let round = 0; round < 1000; round++) {
        const out = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: deployed.deadLetterQueueUrl,
            MaxNumberOfMessages: 10,
            VisibilityTimeout: 60,
            WaitTimeSeconds: 0,
            MessageSystemAttributeNames: ['SentTimestamp'],
          }),
        );
        const messages = out.Messages ?? [];
        if (messages.length === 0) break;
        for (const m of messages) {
          if (m.ReceiptHandle) handles.push({ Id: String(handles.length), ReceiptHandle: m.ReceiptHandle });
          if (!m.MessageId || seen.has(m.MessageId)) continue;
          seen.add(m.MessageId);
          if (Number(m.Attributes?.SentTimestamp ?? 0) < started) continue;
          const letter = describeDeadLetter(m.Body ?? '');
          readings += letter.readings;
          reasons[letter.summary] = (reasons[letter.summary] ?? 0) + letter.readings;
        }
      }
    } finally {
      for (let i = 0; i < handles.length; i += 10) {
        await sqs.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: deployed.deadLetterQueueUrl,
            Entries: handles.slice(i, i + 10).map((h) => ({ ...h, VisibilityTimeout: 0 })),
          }),
        );
      }
    }
    return { readings, reasons };
  };

  // One count at a time: two overlapping counts would each miss what the other holds hidden.
  let counting: Promise<unknown> = Promise.resolve();
  const books = (): Promise<Books> => {
    const next = counting.then(countBooks, countBooks);
    counting = next.catch(() => undefined);
    return next;
  };
  const countBooks = async (): Promise<Books> => {
    const stats = agents.map((a) => a.agent.stats());
    const published = stats.reduce((s, x) => s + x.published, 0);
    const [stored, dead] = await Promise.all([countStored(), countDeadLetters()]);
    lastBooks = {
      published,
      stored,
      deadLettered: dead.readings,
      unaccounted: published - stored - dead.readings,
      pending: stats.reduce((s, x) => s + x.pending, 0),
      dropped: stats.reduce((s, x) => s + x.dropped, 0),
      deadLetterReasons: dead.reasons,
    };
    return lastBooks;
  };
  let booksTimer: NodeJS.Timeout | undefined;
  const refreshBooks = () => {
    books()
      .catch((err) => o.logger.warn(`could not read the books: ${errorText(err)}`))
      .finally(() => {
        booksTimer = setTimeout(refreshBooks, 3000);
      });
  };
  booksTimer = setTimeout(refreshBooks, 3000);

  let stopped: DemoSummary | undefined;
  const demo: Demo = {
    dashboardUrl,
    startupMs,
    cloud,
    get simStart() {
      return simStart;
    },
    simNow,
    figures,
    async stop() {
      if (stopped) return stopped;
      clearInterval(ticker);
      clearTimeout(booksTimer);
      step();
      const simEnd = simNow();
      await Promise.all(agents.map((a) => a.agent.stop()));
      // Let the pipeline settle: rules, the ingest queue and its function, async invocations.
      const deadline = Date.now() + 60_000;
      let b = await books();
      while (b.unaccounted !== 0 && Date.now() < deadline) {
        await cloud.rules.drain();
        await new Promise((r) => setTimeout(r, 1000));
        b = await books();
      }
      await cloud.lambda.drainAsync();
      unsubscribe();
      stopped = {
        books: b,
        commandsIssued,
        commandsApplied,
        energy: { controlledKWh: model.totalEnergyKWh(), baselineKWh: baseline.totalEnergyKWh() },
        comfort: Object.fromEntries(
          config.zones.map((z) => [
            z.id,
            {
              controlled: meters.get(z.id)!.temperatureShare ?? null,
              baseline: baselineMeters.get(z.id)!.temperatureShare ?? null,
            },
          ]),
        ),
        simulated: { from: simStart, to: simEnd },
        startupMs,
        messages: agents.reduce((s, a) => s + a.agent.stats().messages, 0),
      };
      return stopped;
    },
    async close() {
      await dashboard?.close();
      query.destroy();
      sqs.destroy();
      await cloud.close();
    },
  };
  return demo;
}
