/**
 * Resident memory of device agents: 50 agents (device/agent.ts, simulated drivers) in one
 * process, connected over mutual TLS to the local cloud started in the same process.
 *
 * Memory is read at three points, each the median of several process.memoryUsage() samples
 * taken after a forced garbage collection:
 *   1. baseline: the local cloud running, the 50 things, certificates and bundles made, no
 *      agent code loaded;
 *   2. SDK loaded: device/agent.ts imported (aws-iot-device-sdk-v2 and its native aws-crt);
 *   3. running: all agents online, sampling and publishing, over the last part of the run.
 * Per agent = (running - baseline) / agents; the one-off SDK load is also reported on its own
 * and left out in a second figure.
 * The broker's side of each connection (TLS socket, aedes client, subscriptions) lives in the
 * same process and is included in the per-agent figure.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parseBuildingConfigText } from '../contracts';
import type { Agent } from '../device/agent';
import { type LocalCloud, startLocalCloud } from '../local/cloud';
import { silentLogger } from '../local/common/log';
import { fleet, provisionDevices } from './fleet';
import { type Metric, MIB, median, withTimeout } from './report';

export interface AgentBenchOptions {
  readonly agents: number;
  /** How long the agents run once all are online, ms. */
  readonly runMs: number;
  /** Sensor sample interval for the run, ms (the default policy samples every 10 s). */
  readonly sampleIntervalMs: number;
  readonly buildingJson: string;
  readonly progress?: (line: string) => void;
}

export const DEFAULT_AGENT_BENCH = { agents: 50, runMs: 20_000, sampleIntervalMs: 1_000 } as const;

interface MemorySnapshot {
  readonly rss: number;
  readonly heapUsed: number;
  readonly external: number;
}

let gc: (() => void) | undefined;
function collectGarbage(): void {
  if (!gc) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function snapshot(): MemorySnapshot {
  collectGarbage();
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external };
}

function medianOf(samples: readonly MemorySnapshot[]): MemorySnapshot {
  return {
    rss: median(samples.map((s) => s.rss)),
    heapUsed: median(samples.map((s) => s.heapUsed)),
    external: median(samples.map((s) => s.external)),
  };
}

/** Median of `count` memory samples `everyMs` apart, each after a full GC. */
async function memory(count: number, everyMs: number): Promise<MemorySnapshot> {
  const samples: MemorySnapshot[] = [];
  for (let i = 0; i < count; i++) {
    if (i > 0) await sleep(everyMs);
    samples.push(snapshot());
  }
  return medianOf(samples);
}

const SETTLE_WINDOW = 6;
const SETTLE_EVERY_MS = 500;
const SETTLE_SPAN_BYTES = MIB;

/**
 * Memory once the process is idle and RSS has stopped moving: V8 hands unused pages back
 * some seconds after allocation calms down (its memory reducer), so RSS read right after a
 * burst of work is too high. Samples every 0.5 s for at least `minMs`, then until the last
 * 3 s of samples lie within 1 MiB, or `maxMs` passed; the median of those last samples.
 */
async function settledMemory(minMs: number, maxMs: number): Promise<MemorySnapshot & { waitedMs: number }> {
  const started = Date.now();
  const samples: MemorySnapshot[] = [snapshot()];
  for (;;) {
    await sleep(SETTLE_EVERY_MS);
    samples.push(snapshot());
    const window = samples.slice(-SETTLE_WINDOW);
    const rss = window.map((s) => s.rss);
    const waitedMs = Date.now() - started;
    const steady = window.length === SETTLE_WINDOW && Math.max(...rss) - Math.min(...rss) < SETTLE_SPAN_BYTES;
    if ((waitedMs >= minMs && steady) || waitedMs >= maxMs) return { ...medianOf(window), waitedMs };
  }
}

async function waitUntil(check: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what()}`);
    await sleep(50);
  }
}

export async function agentMemoryBench(o: AgentBenchOptions): Promise<Metric[]> {
  const say = o.progress ?? (() => {});
  const root = mkdtempSync(join(tmpdir(), 'zonectl-bench-agents-'));
  const config = parseBuildingConfigText(o.buildingJson);
  const agents: Agent[] = [];
  const logLines: string[] = [];
  let cloud: LocalCloud | undefined;
  try {
    cloud = await startLocalCloud({
      stateDir: join(root, 'state'),
      mqttPort: 0,
      apiPort: 0,
      logger: silentLogger,
    });
    say(`making ${o.agents} things, keys and certificates`);
    const bundles = await provisionDevices(cloud, config, fleet(config, o.agents));

    const baseline = await settledMemory(10_000, 20_000);
    say(`baseline RSS ${(baseline.rss / MIB).toFixed(1)} MiB (local cloud, no agents)`);

    const { runAgent } = await import('../device/agent');
    const sdkLoaded = await settledMemory(3_000, 12_000);

    say(`starting ${o.agents} agents`);
    const started = Date.now();
    for (const [i, bundle] of bundles.entries()) {
      agents.push(
        await runAgent(bundle, {
          dataDir: join(root, 'agents', String(i)),
          policy: { sampleIntervalMs: o.sampleIntervalMs },
          log: (line) => {
            if (logLines.length < 1000) logLines.push(`[${bundle.thing}] ${line}`);
          },
        }),
      );
    }
    await waitUntil(
      () => agents.every((a) => a.stats().online),
      30_000,
      () =>
        `all ${o.agents} agents online (${agents.filter((a) => a.stats().online).length} are; last log: ${logLines.at(-1) ?? 'none'})`,
    );
    const connectSeconds = (Date.now() - started) / 1000;
    say(`all agents online after ${connectSeconds.toFixed(1)} s; running ${o.runMs / 1000} s`);

    // Let the agents settle for the first half, then sample memory through the second half.
    await sleep(o.runMs / 2);
    const samples = Math.max(3, Math.floor(o.runMs / 2 / 1000));
    const running = await memory(samples, o.runMs / 2 / samples);
    const online = agents.filter((a) => a.stats().online).length;
    const stats = agents.map((a) => a.stats());
    const published = stats.reduce((s, a) => s + a.published, 0);
    const messages = stats.reduce((s, a) => s + a.messages, 0);

    const perAgentRss = (running.rss - sdkLoaded.rss) / o.agents;
    const perAgentHeap = (running.heapUsed - sdkLoaded.heapUsed) / o.agents;
    return [
      {
        id: 'agents.rssBaseline',
        metric: 'RSS, local cloud without agents',
        value: baseline.rss / MIB,
        unit: 'MiB',
        note: `heap used ${(baseline.heapUsed / MIB).toFixed(1)} MiB; settled ${(baseline.waitedMs / 1000).toFixed(0)} s, median of 3 s of samples after GC`,
      },
      {
        id: 'agents.rssSdkLoad',
        metric: 'RSS added by loading the agent code (SDK, aws-crt)',
        value: (sdkLoaded.rss - baseline.rss) / MIB,
        unit: 'MiB',
        note: 'one-off per process, before any connection',
      },
      {
        id: 'agents.rssRunning',
        metric: `RSS with ${o.agents} agents running`,
        value: running.rss / MIB,
        unit: 'MiB',
        note: `median of ${samples} samples over the last ${o.runMs / 2000} s of ${o.runMs / 1000} s`,
      },
      {
        id: 'agents.rssDelta',
        metric: `RSS added by ${o.agents} agents`,
        value: (running.rss - baseline.rss) / MIB,
        unit: 'MiB',
        note: 'running minus baseline, SDK load included',
      },
      {
        id: 'agents.rssPerAgent',
        metric: 'RSS per agent',
        value: (running.rss - baseline.rss) / o.agents / MIB,
        unit: 'MiB',
        note: `(running - baseline) / ${o.agents}; includes the broker's side of each connection`,
      },
      {
        id: 'agents.rssPerAgentWithoutSdk',
        metric: 'RSS per agent, SDK load left out',
        value: perAgentRss / MIB,
        unit: 'MiB',
        note: `(running - SDK loaded) / ${o.agents}; RSS moves by MiBs on its own, so read with heap`,
      },
      {
        id: 'agents.heapPerAgent',
        metric: 'JS heap used per agent',
        value: perAgentHeap / 1024,
        unit: 'KiB',
        note: `heap used ${(sdkLoaded.heapUsed / MIB).toFixed(1)} -> ${(running.heapUsed / MIB).toFixed(1)} MiB; external ${(running.external / MIB).toFixed(1)} MiB`,
      },
      {
        id: 'agents.online',
        metric: 'agents online at the end',
        value: online,
        unit: 'agents',
        note: `all online ${connectSeconds.toFixed(1)} s after the first start; ${messages} messages, ${published} readings acknowledged (sampling every ${o.sampleIntervalMs / 1000} s)`,
      },
    ];
  } finally {
    say('stopping agents and the local cloud');
    await withTimeout('stopping the agents', 30_000, Promise.allSettled(agents.map((a) => a.stop()))).catch(
      (err) => say(`${(err as Error).message}; continuing`),
    );
    if (cloud) {
      await withTimeout('closing the local cloud', 15_000, cloud.close()).catch((err) =>
        say(`${(err as Error).message}; continuing`),
      );
    }
    rmSync(root, { recursive: true, force: true });
  }
}
