/**
 * The comparison loads, the same for the local cloud and for a peer: start-up to the first API
 * answer and idle memory of the process tree (when the bench starts the process), then devices
 * made through the IoT API, QoS 1 throughput to a subscriber over mutual TLS with policy checks,
 * connect + disconnect rate, and Device Shadow update/get latency.
 */
import { bareConnectRate, connectRate, publishToSubscriber, throughputMetrics } from './broker-load';
import { machineLoad } from './proc';
import { type Metric, MIB, median } from './report';
import { shadowLatency, shadowMetrics } from './shadow-load';
import { idleTreeMemory } from './spawned';
import { type BenchTarget, provisionBenchDevices } from './target';

export interface LoadOptions {
  readonly messages: number;
  readonly payloadBytes: number;
  readonly inFlight: number;
  readonly connects: number;
  readonly shadowCalls: number;
}

export const DEFAULT_LOADS: LoadOptions = {
  messages: 5_000,
  payloadBytes: 200,
  inFlight: 50,
  connects: 200,
  shadowCalls: 500,
};

/** Figures a comparison keeps by key, so two targets' runs can be set side by side. */
export type Figures = Partial<
  Record<
    'startMs' | 'idleMiB' | 'qos1' | 'cpuMsPerMessage' | 'connects' | 'bareConnects' | 'updateP99' | 'getP99',
    number
  >
>;

export async function runLoads(
  target: BenchTarget,
  o: LoadOptions,
  say: (line: string) => void,
): Promise<{ metrics: Metric[]; figures: Figures }> {
  const tag = Date.now().toString(36);
  say(`${target.name}: making 3 devices through the IoT API`);
  const [publisher, subscriber, other] = await provisionBenchDevices(target, [
    `bench-${tag}-pub`,
    `bench-${tag}-sub`,
    `bench-${tag}-conn`,
  ]);
  say(`${target.name}: ${o.connects} connects`);
  const connects = await connectRate(target, other!, o.connects);
  say(`${target.name}: ${o.connects} connects with a bare client`);
  const bare = await bareConnectRate(target, other!, o.connects);
  say(`${target.name}: ${o.messages} QoS 1 messages to a subscriber (${machineLoad()})`);
  const throughput = await publishToSubscriber(target, publisher!, subscriber!, o);
  say(`${target.name}: 5 rounds of ${o.shadowCalls} shadow updates and gets`);
  const shadow = await shadowLatency(target, other!.thingName, o.shadowCalls);
  return {
    metrics: [
      ...throughputMetrics(target, throughput, o),
      {
        id: `${target.name}.connectsPerSecond`,
        metric: `${target.name}: mTLS connect + disconnect`,
        value: connects.perSecond,
        unit: '/s',
        note: `${o.connects} in sequence, one certificate${connects.cpuMsPerConnect === undefined ? '' : `; server CPU ${connects.cpuMsPerConnect.toFixed(2)} ms per connect`}`,
      },
      {
        id: `${target.name}.bareConnectsPerSecond`,
        metric: `${target.name}: mTLS connect + disconnect, bare client`,
        value: bare.perSecond,
        unit: '/s',
        note: `${o.connects} in sequence, one certificate, Node TLS and a hand-made CONNECT${bare.cpuMsPerConnect === undefined ? '' : `; server CPU ${bare.cpuMsPerConnect.toFixed(2)} ms per connect`}`,
      },
      ...shadowMetrics(target, shadow, o.shadowCalls),
    ],
    figures: {
      qos1: throughput.messagesPerSecond,
      ...(throughput.cpuMsPerMessage === undefined ? {} : { cpuMsPerMessage: throughput.cpuMsPerMessage }),
      connects: connects.perSecond,
      bareConnects: bare.perSecond,
      ...(connects.cpuMsPerConnect === undefined ? {} : { cpuMsPerConnect: connects.cpuMsPerConnect }),
      updateP99: shadow.update.p99,
      getP99: shadow.get.p99,
    },
  };
}

/** Start-up rounds of a process the bench starts; the median start and the idle memory of the first. */
export async function startupFigures(
  name: string,
  rounds: number,
  start: () => Promise<{ pid: number; startMs: number; startCpuMs?: number; stop(): Promise<void> }>,
  say: (line: string) => void,
): Promise<{ metrics: Metric[]; figures: Figures }> {
  const starts: number[] = [];
  const cpus: number[] = [];
  let idle: number | undefined;
  for (let i = 0; i < rounds; i++) {
    const started = await start();
    try {
      starts.push(started.startMs);
      if (started.startCpuMs !== undefined) cpus.push(started.startCpuMs);
      say(`${name}: round ${i + 1}: first API answer after ${started.startMs.toFixed(0)} ms`);
      if (i === 0) idle = await idleTreeMemory(started.pid);
    } finally {
      await started.stop();
    }
  }
  const startMs = median(starts);
  return {
    metrics: [
      {
        id: `${name}.startToFirstAnswerMs`,
        metric: `${name}: start to first API answer`,
        value: startMs,
        unit: 'ms',
        note: `median of ${rounds} (${starts.map((s) => s.toFixed(0)).join(', ')} ms); spawn to a 200 from SQS ListQueues`,
      },
      ...(cpus.length === 0
        ? []
        : [
            {
              id: `${name}.startCpuMs`,
              metric: `${name}: CPU time to first API answer`,
              value: median(cpus),
              unit: 'ms',
              note: `median of ${rounds}; user + system CPU of the process tree by the first answer (less sensitive to a busy machine than wall time)`,
            },
          ]),
      ...(idle === undefined
        ? []
        : [
            {
              id: `${name}.idleMemoryMiB`,
              metric: `${name}: idle memory, whole process tree`,
              value: idle / MIB,
              unit: 'MiB',
              note: 'RSS of the process and its children once it stopped moving, nothing deployed',
            },
          ]),
    ],
    figures: {
      startMs,
      ...(cpus.length === 0 ? {} : { startCpuMs: median(cpus) }),
      ...(idle === undefined ? {} : { idleMiB: idle / MIB }),
    },
  };
}
