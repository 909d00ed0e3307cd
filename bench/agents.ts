/**
 * Resident memory of device agents: 50 agents (device/agent.ts, simulated drivers) in one
 * process, connected over mutual TLS to the local cloud started in the same process.
 *
 * Memory is read at four points, each after a forced garbage collection and once RSS has
 * stopped moving (median of the last 3 s of samples):
 *   1. baseline: the local cloud running, the 50 things, certificates and bundles made, no
 *      agent code loaded;
 *   2. SDK loaded: device/agent.ts imported (aws-iot-device-sdk-v2 and its native aws-crt);
 *   3. first wave: 10 agents online (the one-off costs of the first connections land here);
 *   4. running: all agents online, sampling and publishing, after half the run.
 * Per agent = (running - baseline) / agents; the one-off SDK load is also reported on its own
 * and left out in a second figure. The heap slope from the first wave to the full run is the
 * cost of one more agent; RSS is too noisy for that slope (it moves by MiBs on its own).
 * The broker's side of each connection (TLS socket, aedes client, subscriptions) lives in the
 * same process and is included in the per-agent figure.
 */
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parseBuildingConfigText } from '../contracts';
import type { Agent } from '../device/agent';
import { type BenchCloud, startBenchCloud } from './cloud';
import { fleet, provisionDevices } from './fleet';
import { type Metric, MIB, median, withTimeout } from './report';

export interface AgentBenchOptions {
  readonly agents: number;
  /** How long the agents run once all are online, ms. */
  readonly runMs: number;
  /** Sensor sample interval for the run, ms (the default policy samples every 10 s). */
  readonly sampleIntervalMs: number;
  readonly buildingJson: string;
  /** Agents started first, to separate one-off costs from the cost of one more agent (0: none). */
  readonly firstWave: number;
  readonly progress?: (line: string) => void;
}

export const DEFAULT_AGENT_BENCH = {
  agents: 50,
  runMs: 20_000,
  sampleIntervalMs: 1_000,
  firstWave: 10,
} as const;
const FIRST_WAVE_SETTLE_MS = 5_000;

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
  const config = parseBuildingConfigText(o.buildingJson);
  const agents: Agent[] = [];
  const logLines: string[] = [];
  let bench: BenchCloud | undefined;
  try {
    bench = await startBenchCloud('agents');
    const { cloud, root } = bench;
    say(`making ${o.agents} things, keys and certificates`);
    const bundles = await provisionDevices(cloud, config, fleet(config, o.agents));

    const baseline = await settledMemory(10_000, 20_000);
    say(`baseline RSS ${(baseline.rss / MIB).toFixed(1)} MiB (local cloud, no agents)`);

    const { runAgent } = await import('../device/agent');
    const sdkLoaded = await settledMemory(3_000, 12_000);

    const startAgents = async (upTo: number): Promise<void> => {
      for (const [i, bundle] of bundles.entries()) {
        if (i < agents.length) continue;
        if (i >= upTo) break;
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
          `all ${agents.length} agents online (${agents.filter((a) => a.stats().online).length} are; last log: ${logLines.at(-1) ?? 'none'})`,
      );
    };

    // First wave: the one-off costs of the first connections (lazy modules, compiled code,
    // native buffers) land here, so the slope to the full run is the cost of one more agent.
    const firstWave = o.agents > o.firstWave ? o.firstWave : 0;
    let wave: MemorySnapshot | undefined;
    if (firstWave > 0) {
      say(`starting ${firstWave} agents`);
      await startAgents(firstWave);
      wave = await settledMemory(FIRST_WAVE_SETTLE_MS, FIRST_WAVE_SETTLE_MS + 8_000);
    }

    say(`starting ${o.agents - firstWave} agents`);
    const started = Date.now();
    await startAgents(o.agents);
    const connectSeconds = (Date.now() - started) / 1000;
    say(`all ${o.agents} agents online after ${connectSeconds.toFixed(1)} s; running ${o.runMs / 1000} s`);

    // Run for the first half, then read memory as for the baseline: once RSS stops moving.
    await sleep(o.runMs / 2);
    const running = await settledMemory(o.runMs / 2, o.runMs / 2 + 10_000);
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
        note: `after ${((o.runMs / 2 + running.waitedMs) / 1000).toFixed(0)} s running, median of 3 s of samples once RSS settled`,
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
      ...(wave
        ? [
            {
              id: 'agents.heapMarginal',
              metric: 'JS heap per additional agent',
              value: (running.heapUsed - wave.heapUsed) / (o.agents - firstWave) / 1024,
              unit: 'KiB',
              note: `slope from ${firstWave} to ${o.agents} agents; the first ${firstWave} took ${((wave.heapUsed - sdkLoaded.heapUsed) / MIB).toFixed(1)} MiB heap, RSS ${(wave.rss / MIB).toFixed(0)} MiB`,
            },
          ]
        : []),
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
        note: `the last ${o.agents - firstWave} online ${connectSeconds.toFixed(1)} s after their start; ${messages} messages, ${published} readings acknowledged (sampling every ${o.sampleIntervalMs / 1000} s)`,
      },
    ];
  } finally {
    say('stopping agents and the local cloud');
    await withTimeout('stopping the agents', 30_000, Promise.allSettled(agents.map((a) => a.stop()))).catch(
      (err) => say(`${(err as Error).message}; continuing`),
    );
    await bench?.close((message) => say(`${message}; continuing`));
  }
}
