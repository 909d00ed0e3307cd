/**
 * Device Shadow HTTP API latency through the AWS SDK v3 (IoTDataPlaneClient), as an operator or
 * a Lambda function calls it: `calls` UpdateThingShadow in sequence (each changes the desired
 * state, so the service merges, versions and computes a delta), then `calls` GetThingShadow.
 * Client-side wall time per call; p50 and p99; and, when the bench knows the server's pid, the
 * server's CPU per call (from /proc).
 */
import {
  GetThingShadowCommand,
  IoTDataPlaneClient,
  UpdateThingShadowCommand,
} from '@aws-sdk/client-iot-data-plane';
import { cpuDuring, procAvailable } from './proc';
import type { Metric } from './report';
import { percentile } from './stats';
import { type BenchTarget, clientConfig } from './target';

export interface ShadowLatency {
  readonly update: { p50: number; p99: number; serverCpuMs?: number };
  readonly get: { p50: number; p99: number; serverCpuMs?: number };
}

/** Runs `work` and returns the server's CPU time it took, in ms, when the pid is known. */
async function serverCpuMs(target: BenchTarget, work: () => Promise<void>): Promise<number | undefined> {
  if (target.pid === undefined || !procAvailable()) {
    await work();
    return undefined;
  }
  return (await cpuDuring(target.pid, work)).cpuSeconds * 1000;
}

const perCall = (ms: number | undefined, calls: number) =>
  ms === undefined ? {} : { serverCpuMs: ms / calls };

export async function shadowLatency(
  target: BenchTarget,
  thingName: string,
  calls: number,
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
    for (let i = 0; i < 20; i++) await update(i); // warm-up
    const updates: number[] = [];
    const updateCpu = await serverCpuMs(target, async () => {
      for (let i = 0; i < calls; i++) {
        const t = performance.now();
        await update(i);
        updates.push(performance.now() - t);
      }
    });
    const gets: number[] = [];
    const getCpu = await serverCpuMs(target, async () => {
      for (let i = 0; i < calls; i++) {
        const t = performance.now();
        await client.send(new GetThingShadowCommand({ thingName }));
        gets.push(performance.now() - t);
      }
    });
    return {
      update: { p50: percentile(updates, 50), p99: percentile(updates, 99), ...perCall(updateCpu, calls) },
      get: { p50: percentile(gets, 50), p99: percentile(gets, 99), ...perCall(getCpu, calls) },
    };
  } finally {
    client.destroy();
  }
}

export function shadowMetrics(target: BenchTarget, r: ShadowLatency, calls: number): Metric[] {
  return [
    {
      id: `${target.name}.shadow.updateP99Ms`,
      metric: `${target.name}: UpdateThingShadow p99`,
      value: r.update.p99,
      unit: 'ms',
      note: `p50 ${r.update.p50.toFixed(2)} ms; ${calls} calls in sequence, SDK v3 over HTTP${cpuNote(r.update.serverCpuMs)}`,
    },
    {
      id: `${target.name}.shadow.getP99Ms`,
      metric: `${target.name}: GetThingShadow p99`,
      value: r.get.p99,
      unit: 'ms',
      note: `p50 ${r.get.p50.toFixed(2)} ms; ${calls} calls in sequence${cpuNote(r.get.serverCpuMs)}`,
    },
  ];
}

const cpuNote = (ms: number | undefined) =>
  ms === undefined ? '' : `; server CPU ${ms.toFixed(2)} ms per call`;
