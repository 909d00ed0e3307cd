/**
 * The comparison and pipeline stages of `npm run bench` (see bench/README.md): start-up, the
 * broker loads, the pipeline against the raw broker, the closed loop, the Lambda bundles, the
 * 5,000-agent fleet and the peer. Each returns its figures as Metrics and keeps the ones the
 * goals need in `Collected`.
 */
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleHandler } from '../lib/handler-bundle';
import { lambdaEntry } from '../lib/handler-function';
import { publishToSubscriber, throughputMetrics } from './broker-load';
import { closedLoop, loopMetrics } from './closed-loop';
import { DEFAULT_LOADS, type Figures, type LoadOptions, runLoads, startupFigures } from './compare';
import { type DeployedBuilding, deployBuilding } from './deployed';
import { cpuOf, type PipelineResult, pipelineRun, targetOf } from './pipeline';
import { machineLoad } from './proc';
import { type Metric, median } from './report';
import { REPO_ROOT, spawnLocalCloud, spawnPeer, ZONECTL } from './spawned';
import { percentile } from './stats';
import { type BenchTarget, provisionBenchDevices } from './target';

export interface Collected {
  ours: Figures;
  peer?: Figures & { name: string };
  helpMs?: number;
  pipelineRatio?: number;
  pipelineLost?: number;
  loopP99Ms?: number;
  loopTrials?: number;
  largestBundleBytes?: number;
}

type Say = (line: string) => void;

// ---- start-up -------------------------------------------------------------------------------

/** `zonectl --help` in a fresh process: wall time, and CPU and peak memory where /usr/bin/time exists. */
export function helpFigures(runs = 7): { metrics: Metric[]; ms: number } {
  spawnSync(process.execPath, [ZONECTL, '--help'], { cwd: REPO_ROOT, stdio: 'ignore' }); // build if needed
  const time = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
  const measure = (args: string[]) => {
    const walls: number[] = [];
    const cpus: number[] = [];
    const rss: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      const run = time
        ? spawnSync(time, ['-f', '%U %S %M', process.execPath, ...args], { cwd: REPO_ROOT, encoding: 'utf8' })
        : spawnSync(process.execPath, args, { cwd: REPO_ROOT, encoding: 'utf8' });
      walls.push(performance.now() - t);
      const m = /(\d+\.\d+) (\d+\.\d+) (\d+)\s*$/.exec(run.stderr ?? '');
      if (m) {
        cpus.push((Number(m[1]) + Number(m[2])) * 1000);
        rss.push(Number(m[3]) / 1024);
      }
    }
    return {
      wall: median(walls),
      cpu: cpus.length ? median(cpus) : undefined,
      rss: rss.length ? median(rss) : undefined,
    };
  };
  const help = measure([ZONECTL, '--help']);
  const bare = measure(['-e', '0']);
  const extra = (r: typeof help) =>
    r.cpu === undefined ? '' : `; CPU ${r.cpu.toFixed(0)} ms, peak RSS ${r.rss!.toFixed(0)} MiB`;
  return {
    ms: help.wall,
    metrics: [
      {
        id: 'zonectl.helpMs',
        metric: 'zonectl --help',
        value: help.wall,
        unit: 'ms',
        note: `median of ${runs}, spawn to exit${extra(help)}; a bare \`node -e 0\` takes ${bare.wall.toFixed(0)} ms here${extra(bare)}`,
      },
    ],
  };
}

export async function startupStage(c: Collected, rounds: number, say: Say): Promise<Metric[]> {
  const help = helpFigures();
  c.helpMs = help.ms;
  const started = await startupFigures('zonectl', rounds, () => spawnLocalCloud(), say);
  Object.assign(c.ours, started.figures);
  return [...help.metrics, ...started.metrics];
}

// ---- broker -------------------------------------------------------------------------------

export async function brokerStage(c: Collected, loads: LoadOptions, say: Say): Promise<Metric[]> {
  const cloud = await spawnLocalCloud();
  try {
    const target: BenchTarget = { name: 'zonectl', ...cloudTarget(cloud), pid: cloud.pid };
    const r = await runLoads(target, loads, say);
    Object.assign(c.ours, r.figures);
    return r.metrics;
  } finally {
    await cloud.stop();
  }
}

const cloudTarget = (cloud: {
  apiEndpoint: string;
  mqttHost: string;
  mqttPort: number;
  caPem: string;
  region: string;
}) => ({
  apiEndpoint: cloud.apiEndpoint,
  mqttHost: cloud.mqttHost,
  mqttPort: cloud.mqttPort,
  caPem: cloud.caPem,
  region: cloud.region,
});

// ---- pipeline -------------------------------------------------------------------------------

export interface PipelineOptions {
  readonly messages: number;
  readonly inFlight: number;
}

/** A copy of the assembly with the control mapping's batch size changed (and nothing else). */
function withControlBatchSize(assembly: string, batchSize: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'zonectl-bench-assembly-'));
  cpSync(assembly, dir, { recursive: true });
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.template.json'))) {
    const template = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
      Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
    };
    for (const r of Object.values(template.Resources)) {
      if (r.Type !== 'AWS::Lambda::EventSourceMapping') continue;
      if (!JSON.stringify(r.Properties.EventSourceArn).includes('Controller')) continue;
      r.Properties.BatchSize = batchSize;
    }
    writeFileSync(join(dir, file), JSON.stringify(template));
  }
  return dir;
}

function pipelineMetric(id: string, label: string, r: PipelineResult, rawRate: number, rpm: number): Metric {
  const controller = cpuOf(r.cpu, 'Controller');
  const ingest = cpuOf(r.cpu, 'Ingest');
  const total = [...r.cpu.values()].reduce((a, b) => a + b, 0);
  const messages = r.published / rpm;
  return {
    id,
    metric: label,
    value: r.messagesPerSecond,
    unit: 'msg/s',
    note:
      `sustained (10% to 90% of the readings stored): ${(r.messagesPerSecond / rawRate).toFixed(2)} of the raw broker's msg/s, ${r.readingsPerSecond.toFixed(0)} readings/s; ` +
      `end to end (first publish to all queryable, the last batch's window of up to 5 s included): ${r.endToEndMessagesPerSecond.toFixed(0)} msg/s, ${(r.endToEndMessagesPerSecond / rawRate).toFixed(2)} of the raw; ` +
      `${r.stored} of ${r.published} readings stored, ${r.deadLettered} dead-lettered; ` +
      `CPU per message ${((total * 1000) / messages).toFixed(2)} ms (controller ${((controller * 1000) / messages).toFixed(2)}, ingest ${((ingest * 1000) / messages).toFixed(2)})`,
  };
}

export async function pipelineStage(
  c: Collected,
  o: PipelineOptions,
  buildingJson: string,
  say: Say,
): Promise<Metric[]> {
  const d = await deployBuilding(buildingJson, say);
  try {
    const target = targetOf(d);
    const [p, s] = await provisionBenchDevices(target, ['bench-raw-pub', 'bench-raw-sub']);
    say(`raw broker: ${o.messages} QoS 1 messages (${machineLoad()})`);
    const rawLoad = { messages: o.messages, payloadBytes: 200, inFlight: o.inFlight };
    const raw = await publishToSubscriber(target, p!, s!, rawLoad);
    const metrics: Metric[] = throughputMetrics({ ...target, name: 'raw broker' }, raw, rawLoad);
    const one = await runPipeline(d, o, 1, say);
    const ten = await runPipeline(d, o, 10, say);
    metrics.push(
      pipelineMetric('pipeline.oneReading', 'pipeline, 1 reading per message', one, raw.messagesPerSecond, 1),
      pipelineMetric(
        'pipeline.tenReadings',
        'pipeline, 10 readings per message',
        ten,
        raw.messagesPerSecond,
        10,
      ),
    );
    c.pipelineRatio = one.messagesPerSecond / raw.messagesPerSecond;
    // every bench reading is valid, so a dead letter is a loss too
    c.pipelineLost =
      one.published - one.stored + one.deadLettered + (ten.published - ten.stored + ten.deadLettered);

    // The controller deciding once per message (batches of one) against once per zone of a batch.
    say('the controller in batches of 1, as one invocation per message');
    const single = withControlBatchSize(d.assembly, 1);
    try {
      await d.deploy(single);
      const perMessage = await runPipeline(d, o, 1, say);
      await d.deploy(d.assembly);
      const batched = await runPipeline(d, o, 1, say);
      const ms = (r: PipelineResult) => (cpuOf(r.cpu, 'Controller') * 1000) / o.messages;
      const backlog = (r: PipelineResult) => `${r.controlBacklogSeconds.toFixed(1)} s`;
      metrics.push({
        id: 'pipeline.controllerCpuPerMessage',
        metric: 'controller CPU per message, batches of 10',
        value: ms(batched),
        unit: 'ms',
        note: `${ms(perMessage).toFixed(2)} ms in batches of 1 (one invocation and decision per message), ${(ms(perMessage) / ms(batched)).toFixed(1)}x more; ${o.messages} one-reading messages each, CPU counted until the control queue was empty (${backlog(batched)} and ${backlog(perMessage)} after the last reading was stored)`,
      });
    } finally {
      rmSync(single, { recursive: true, force: true });
    }
    return metrics;
  } finally {
    await d.stop();
  }
}

async function runPipeline(
  d: DeployedBuilding,
  o: PipelineOptions,
  rpm: number,
  say: Say,
): Promise<PipelineResult> {
  say(`pipeline: ${o.messages} messages of ${rpm} reading${rpm > 1 ? 's' : ''} (${machineLoad()})`);
  return pipelineRun(d, { messages: o.messages, readingsPerMessage: rpm, inFlight: o.inFlight });
}

// ---- closed loop ------------------------------------------------------------------------------

export async function loopStage(
  c: Collected,
  trials: number,
  buildingJson: string,
  say: Say,
): Promise<Metric[]> {
  const d = await deployBuilding(buildingJson, say);
  try {
    const r = await closedLoop(d, { trials, warmup: 5 }, say);
    c.loopP99Ms = percentile(r.loop, 99);
    c.loopTrials = r.loop.length;
    return loopMetrics(r);
  } finally {
    await d.stop();
  }
}

// ---- Lambda bundles ---------------------------------------------------------------------------

export function bundleStage(c: Collected): Metric[] {
  const out = mkdtempSync(join(tmpdir(), 'zonectl-bench-bundles-'));
  try {
    const lambdaDir = join(REPO_ROOT, 'lambda');
    const handlers = readdirSync(lambdaDir).filter((f) => existsSync(join(lambdaDir, f, 'handler.ts')));
    const metrics = handlers.map((name): Metric => {
      bundleHandler(lambdaEntry(name), join(out, name));
      const bytes = statSync(join(out, name, 'index.js')).size;
      c.largestBundleBytes = Math.max(c.largestBundleBytes ?? 0, bytes);
      return {
        id: `lambda.bundleBytes.${name}`,
        metric: `Lambda bundle: ${name}`,
        value: bytes / 1000,
        unit: 'KB',
        note: 'index.js as deployed: minified, AWS SDK left to the nodejs22.x runtime, zod without translations',
      };
    });
    return metrics;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

// ---- peer ---------------------------------------------------------------------------------------

export interface PeerOptions {
  readonly endpoint: string;
  readonly mqtt: string;
  readonly caFile: string;
  readonly region: string;
  /** A shell command that starts the peer, for its start-up and idle memory. */
  readonly start?: string;
  readonly name: string;
}

export async function peerStage(
  c: Collected,
  p: PeerOptions,
  loads: LoadOptions,
  say: Say,
): Promise<Metric[]> {
  const [host, port] = parseHostPort(p.mqtt);
  const metrics: Metric[] = [];
  const figures: Figures = {};
  let stop: (() => Promise<void>) | undefined;
  let pid: number | undefined;
  try {
    if (p.start) {
      const started = await startupFigures(p.name, 3, () => spawnPeer(p.start!, p.endpoint), say);
      metrics.push(...started.metrics);
      Object.assign(figures, started.figures);
      const running = await spawnPeer(p.start, p.endpoint);
      stop = running.stop;
      pid = running.pid;
    }
    const target: BenchTarget = {
      name: p.name,
      apiEndpoint: p.endpoint,
      mqttHost: host,
      mqttPort: port,
      caPem: readFileSync(p.caFile, 'utf8'),
      region: p.region,
      ...(pid === undefined ? {} : { pid }),
    };
    const r = await runLoads(target, loads, say);
    metrics.push(...r.metrics);
    Object.assign(figures, r.figures);
    c.peer = { ...figures, name: p.name };
    return metrics;
  } finally {
    await stop?.();
  }
}

function parseHostPort(text: string): [string, number] {
  const m = /^(?:mqtts?:\/\/)?([^:/]+):(\d+)\/?$/.exec(text);
  if (!m) throw new Error(`--peer-mqtt ${text} is not host:port (e.g. localhost:8883)`);
  return [m[1]!, Number(m[2])];
}

export { DEFAULT_LOADS };
