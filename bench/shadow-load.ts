/**
 * Device Shadow HTTP API latency through the AWS SDK v3 (IoTDataPlaneClient), as an operator or
 * a Lambda function calls it. A round is `calls` UpdateThingShadow in sequence (each changes the
 * desired state, so the service merges, versions and computes a delta), then `calls`
 * GetThingShadow; client-side wall time per call, p50 and p99 per round. The figures are the
 * medians over `rounds` rounds, as the comparison table's reference figures were taken, so one
 * round's pause (a garbage collection, the JIT warming up a path, a busy neighbour) does not
 * decide the p99 alone; the spread of the rounds' p99s is reported beside it. When the bench
 * knows the server's pid, the server's CPU per call (from /proc) over all rounds.
 */
import {
  GetThingShadowCommand,
  IoTDataPlaneClient,
  UpdateThingShadowCommand,
} from '@aws-sdk/client-iot-data-plane';
import { cpuDuring, procAvailable } from './proc';
import { type Metric, median } from './report';
import { percentile } from './stats';
import { type BenchTarget, clientConfig } from './target';

export interface CallLatency {
  /** Medians over the rounds of each round's p50 and p99, ms. */
  readonly p50: number;
  readonly p99: number;
  /** The lowest and highest of the rounds' p99s, ms. */
  readonly p99Range: readonly [number, number];
  readonly serverCpuMs?: number;
}

export interface ShadowLatency {
  readonly update: CallLatency;
  readonly get: CallLatency;
  readonly rounds: number;
}

/** Runs `work` and returns the server's CPU time it took, in ms, when the pid is known. */
async function serverCpuMs(target: BenchTarget, work: () => Promise<void>): Promise<number | undefined> {
  if (target.pid === undefined || !procAvailable()) {
    await work();
    return undefined;
  }
  return (await cpuDuring(target.pid, work)).cpuSeconds * 1000;
}

/** Times `calls` sequential calls; returns each call's wall time, ms. */
async function timed(calls: number, call: (i: number) => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < calls; i++) {
    const t = performance.now();
    await call(i);
    times.push(performance.now() - t);
  }
  return times;
}

function summary(rounds: readonly number[][], cpuMs: number | undefined, calls: number): CallLatency {
  const p99s = rounds.map((r) => percentile(r, 99));
  return {
    p50: median(rounds.map((r) => percentile(r, 50))),
    p99: median(p99s),
    p99Range: [Math.min(...p99s), Math.max(...p99s)],
    ...(cpuMs === undefined ? {} : { serverCpuMs: cpuMs / (calls * rounds.length) }),
  };
}

export async function shadowLatency(
  target: BenchTarget,
  thingName: string,
  calls: number,
  rounds = 5,
): Promise<ShadowLatency> {
  const client = new IoTDataPlaneClient(clientConfig(target));
  const encode = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
  try {
    const update = (i: number) =>
      client.send(
        new UpdateThingShadowCommand({
          thingName,
          payload: encode({ state: { desired: { setpoint: 18 + (i % 8), seq: i } } }),
        }),
      );
    const get = () => client.send(new GetThingShadowCommand({ thingName }));
    for (let i = 0; i < 20; i++) await update(i); // warm-up
    const updates: number[][] = [];
    const gets: number[][] = [];
    let updateCpu: number | undefined = 0;
    let getCpu: number | undefined = 0;
    for (let r = 0; r < rounds; r++) {
      const u = await serverCpuMs(target, async () => {
        updates.push(await timed(calls, update));
      });
      const g = await serverCpuMs(target, async () => {
        gets.push(await timed(calls, get));
      });
      updateCpu = u === undefined || updateCpu === undefined ? undefined : updateCpu + u;
      getCpu = g === undefined || getCpu === undefined ? undefined : getCpu + g;
    }
    return {
      update: summary(updates, updateCpu, calls),
      get: summary(gets, getCpu, calls),
      rounds,
    };
  } finally {
    client.destroy();
  }
}

export function shadowMetrics(target: BenchTarget, r: ShadowLatency, calls: number): Metric[] {
  const note = (c: CallLatency) =>
    `median of ${r.rounds} rounds of ${calls} calls in sequence (the rounds' p99s ${c.p99Range[0].toFixed(1)}-${c.p99Range[1].toFixed(1)} ms); p50 ${c.p50.toFixed(2)} ms${cpuNote(c.serverCpuMs)}`;
  return [
    {
      id: `${target.name}.shadow.updateP99Ms`,
      metric: `${target.name}: UpdateThingShadow p99`,
      value: r.update.p99,
      unit: 'ms',
      note: `${note(r.update)}; SDK v3 over HTTP`,
    },
    {
      id: `${target.name}.shadow.getP99Ms`,
      metric: `${target.name}: GetThingShadow p99`,
      value: r.get.p99,
      unit: 'ms',
      note: note(r.get),
    },
  ];
}

const cpuNote = (ms: number | undefined) =>
  ms === undefined ? '' : `; server CPU ${ms.toFixed(2)} ms per call`;
