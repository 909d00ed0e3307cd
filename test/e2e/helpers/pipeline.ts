/**
 * The whole pipeline for one end-to-end test file: the shared synthesized assembly (see
 * ./assembly), a local cloud on ephemeral ports in a temp state dir, the assembly deployed
 * into it, onboarding finished for the test things (device bundles written from the
 * deployer's stack outputs), and real AWS SDK v3 clients pointed at the local API.
 *
 * `restart()` stops the cloud and starts a new one on the same state dir (and, by default, the
 * same ports, which is what a device bundle records), then deploys again. `close()` stops every
 * agent and client this fixture handed out, the cloud, and removes the temp dir.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IoTClient } from '@aws-sdk/client-iot';
import { IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { SQSClient } from '@aws-sdk/client-sqs';
import { QueryCommand, TimestreamQueryClient } from '@aws-sdk/client-timestream-query';
import { afterEach } from 'vitest';
import {
  BUNDLE_FILE,
  buildingStackName,
  CA_FILE,
  CERTIFICATE_FILE,
  localClientConfig,
  PRIVATE_KEY_FILE,
  STACK_OUTPUT,
} from '../../../contracts';
import { type Agent, type AgentOptions, runAgent } from '../../../device/agent';
import { type DeviceBundle, loadBundle } from '../../../device/bundle';
import { type LocalCloud, startLocalCloud } from '../../../local/cloud';
import { recordingLogger } from '../../../local/common/log';
import type { DeployResult } from '../../../local/deployer/deployer';
import { finishOnboarding, targetFor } from '../../../provisioning/onboard';
import { BUILDING_CONFIG, copyDevices, E2E_THINGS, type SharedAssembly, sharedAssembly } from './assembly';

/** Throwaway credentials: the local cloud accepts any SigV4 signature. */
export const CREDENTIALS = { accessKeyId: 'AKIDLOCALE2E', secretAccessKey: 'local-e2e-secret' };
export const STACK_NAME = buildingStackName('hq');

export interface Clients {
  readonly sqs: SQSClient;
  readonly query: TimestreamQueryClient;
  readonly data: IoTDataPlaneClient;
  readonly iot: IoTClient;
}

export interface DeviceFiles {
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile: string;
}

export interface StartedAgent {
  readonly agent: Agent;
  readonly lines: string[];
}

export interface Pipeline {
  readonly root: string;
  readonly stateDir: string;
  readonly devicesDir: string;
  readonly assembly: SharedAssembly;
  readonly logger: ReturnType<typeof recordingLogger>;
  /** The running cloud (a new object after `restart()`). */
  readonly cloud: LocalCloud;
  /** The report of the first deploy. */
  readonly firstDeploy: DeployResult;
  /** The building stack's resolved outputs. */
  readonly outputs: Readonly<Record<string, string>>;
  readonly bundles: Readonly<Record<string, DeviceBundle>>;
  /** SDK clients for the current cloud's endpoint. */
  clients(): Clients;
  /** The thing's certificate, key and CA files as onboarding wrote them. */
  files(thing: string): DeviceFiles;
  /** Starts a device agent from the thing's bundle; stopped by `close()` unless stopped before. */
  startAgent(thing: string, options?: Partial<AgentOptions>): Promise<StartedAgent>;
  /** Deploys the shared assembly again into the running cloud. */
  deploy(): Promise<DeployResult>;
  /** Stops the cloud, keeping its state dir. */
  stopCloud(): Promise<void>;
  /** Starts a cloud on the same state dir and ports, and deploys again. */
  startCloud(): Promise<DeployResult>;
  /** Log lines of the cloud containing every fragment. */
  logLines(...fragments: string[]): string[];
  close(): Promise<void>;
}

export interface PipelineOptions {
  /** Async Lambda retry delays; short by default so failures show within seconds. */
  readonly asyncRetryDelaysMs?: readonly number[];
}

/** Agent settings for tests: fast reconnects, samples only when the test calls `sample()`. */
export const TEST_AGENT: Partial<AgentOptions> = {
  link: { minBackoffMs: 100, maxBackoffMs: 500, stableAfterMs: 300, keepAliveSec: 10 },
  // every sample is a reading (heartbeat 0) and goes out at once (no batch delay)
  policy: { sampleIntervalMs: 3_600_000, heartbeatMs: 0, maxBatchDelayMs: 0, batchSize: 10 },
  sampleOnStart: false,
};

export async function startPipeline(options: PipelineOptions = {}): Promise<Pipeline> {
  const assembly = await sharedAssembly();
  const root = mkdtempSync(join(tmpdir(), 'zonectl-e2e-'));
  const stateDir = join(root, 'state');
  const devicesDir = copyDevices(assembly, join(root, 'devices'));
  const logger = recordingLogger();
  const asyncRetryDelaysMs = options.asyncRetryDelaysMs ?? [300, 600];
  const agents = new Set<Agent>();
  let clients: Clients | undefined;

  const start = (mqttPort: number, apiPort: number) =>
    startLocalCloud({ stateDir, mqttPort, apiPort, logger, asyncRetryDelaysMs });
  let cloud: LocalCloud | undefined = await start(0, 0);
  const ports = {
    mqtt: cloud.endpoints.mqttPort,
    api: Number(new URL(cloud.endpoints.apiEndpoint).port),
  };
  const current = (): LocalCloud => {
    if (!cloud) throw new Error('the local cloud is stopped');
    return cloud;
  };
  const destroyClients = () => {
    if (!clients) return;
    for (const c of Object.values(clients)) (c as { destroy(): void }).destroy();
    clients = undefined;
  };

  const stopAll = async () => {
    for (const a of agents) await a.stop().catch(() => undefined);
    agents.clear();
    destroyClients();
    await cloud?.close();
    cloud = undefined;
  };

  try {
    const firstDeploy = await cloud.deploy(assembly.cdkOut);
    const outputs = firstDeploy.outputs[STACK_NAME] as Record<string, string> | undefined;
    if (!outputs) throw new Error(`the deploy has no outputs for ${STACK_NAME}`);
    const target = targetFor({ local: true, stateDir });
    const bundles: Record<string, DeviceBundle> = {};
    try {
      for (const thing of E2E_THINGS) {
        const finished = await finishOnboarding({ thing, configPath: BUILDING_CONFIG, devicesDir, target });
        bundles[thing] = loadBundle(finished.bundlePath);
      }
    } finally {
      target.iot.destroy();
    }

    const pipeline: Pipeline = {
      root,
      stateDir,
      devicesDir,
      assembly,
      logger,
      get cloud() {
        return current();
      },
      firstDeploy,
      outputs,
      bundles,
      clients() {
        if (clients) return clients;
        // other credentials than the local default: the local cloud accepts any signature
        const common = {
          ...localClientConfig(current().endpoints),
          credentials: CREDENTIALS,
          maxAttempts: 2,
        };
        clients = {
          sqs: new SQSClient(common),
          query: new TimestreamQueryClient(common),
          data: new IoTDataPlaneClient(common),
          iot: new IoTClient(common),
        };
        return clients;
      },
      files(thing) {
        const dir = join(devicesDir, thing);
        return {
          certFile: join(dir, CERTIFICATE_FILE),
          keyFile: join(dir, PRIVATE_KEY_FILE),
          caFile: join(dir, CA_FILE),
        };
      },
      async startAgent(thing, agentOptions = {}) {
        const bundle = loadBundle(join(devicesDir, thing, BUNDLE_FILE));
        const dataDir = join(root, 'agents', thing);
        mkdirSync(dataDir, { recursive: true });
        const lines: string[] = [];
        const agent = await runAgent(bundle, {
          dataDir,
          log: (line) => lines.push(line),
          ...TEST_AGENT,
          ...agentOptions,
        });
        // stop() is safe to call twice, so close() stops whatever a test left running
        agents.add(agent);
        return { agent, lines };
      },
      deploy: () => current().deploy(assembly.cdkOut),
      async stopCloud() {
        destroyClients();
        await cloud?.close();
        cloud = undefined;
      },
      async startCloud() {
        if (cloud) throw new Error('the local cloud is already running');
        cloud = await start(ports.mqtt, ports.api);
        return cloud.deploy(assembly.cdkOut);
      },
      logLines: (...fragments) => logger.lines.filter((l) => fragments.every((f) => l.includes(f))),
      async close() {
        await stopAll();
        rmSync(root, { recursive: true, force: true });
      },
    };
    return pipeline;
  } catch (err) {
    await stopAll();
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
}

// ---- reading things back -------------------------------------------------------------------

export interface StoredReading {
  readonly building: string;
  readonly zone: string;
  readonly thing: string;
  readonly time: string;
  readonly seq: number;
  readonly temperature: number | undefined;
}

/** The thing's stored readings, oldest first, through the Timestream Query API. */
export async function storedReadings(pipeline: Pipeline, thing: string): Promise<StoredReading[]> {
  const db = pipeline.outputs[STACK_OUTPUT.timestreamDatabase];
  const table = pipeline.outputs[STACK_OUTPUT.timestreamTable];
  const out = await pipeline.clients().query.send(
    new QueryCommand({
      QueryString:
        `SELECT building, zone, thing, time, seq, temperature FROM "${db}"."${table}" ` +
        `WHERE thing = '${thing}' ORDER BY time, seq`,
    }),
  );
  const names = (out.ColumnInfo ?? []).map((c) => c.Name ?? '');
  return (out.Rows ?? []).map((row) => {
    const cell = (name: string) => row.Data?.[names.indexOf(name)]?.ScalarValue;
    const temperature = cell('temperature');
    return {
      building: cell('building') ?? '',
      zone: cell('zone') ?? '',
      thing: cell('thing') ?? '',
      time: cell('time') ?? '',
      seq: Number(cell('seq')),
      temperature: temperature === undefined ? undefined : Number(temperature),
    };
  });
}

export function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

/** Prints the cloud's last log lines and the agents' lines after a failed test, to see why. */
export function printLogsOnFailure(get: () => Pipeline | undefined, lines = 60): void {
  afterEach((context) => {
    const pipeline = get();
    // an expected failure (it.fails) is no reason to print
    if (context.task.result?.state !== 'fail' || context.task.fails || !pipeline) return;
    console.error(`last ${lines} local cloud log lines:\n${pipeline.logger.lines.slice(-lines).join('\n')}`);
  });
}
