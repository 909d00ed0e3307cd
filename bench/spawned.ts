/**
 * A cloud in a process of its own, as a user runs it: `node bin/zonectl.mjs local up` (or a
 * peer's own start command), so its start-up, memory and CPU are measured apart from the bench's
 * clients. The first API answer is an SQS ListQueues (AWS JSON protocol) that returns 200: a
 * request every AWS-compatible endpoint with SQS answers.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readLocalEndpoints } from '../contracts';
import { procAvailable, treeUsage } from './proc';
import { MIB, median } from './report';

export const ZONECTL = fileURLToPath(new URL('../bin/zonectl.mjs', import.meta.url));
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * Makes the launcher's build of `zonectl` current (bin/launcher.mjs builds it again after any
 * source change) by running `zonectl --help` once. Without this, the first `zonectl` a stage
 * spawns after a change would build itself, and the build (esbuild, seconds of CPU and a few
 * hundred MiB) would count in that stage's start-up and memory figures.
 */
export function buildZonectl(): void {
  const run = spawnSync(process.execPath, [ZONECTL, '--help'], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (run.status !== 0) {
    throw new Error(`zonectl --help exited ${run.status ?? run.signal}: ${run.stderr.trim()}`);
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A free TCP port on the loopback interface (bound, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** True once the endpoint answers SQS ListQueues with 200. */
export async function answers(apiEndpoint: string): Promise<boolean> {
  try {
    const res = await fetch(apiEndpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'AmazonSQS.ListQueues',
        // SigV4-shaped: emulators route by the signing service; none checks the signature
        authorization:
          'AWS4-HMAC-SHA256 Credential=bench/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0',
      },
      body: '{}',
      signal: AbortSignal.timeout(2_000),
    });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

/** Polls until the endpoint answers; the milliseconds since `since`. */
export async function firstAnswerMs(
  apiEndpoint: string,
  since: number,
  timeoutMs: number,
  exited: () => string | undefined,
): Promise<number> {
  for (;;) {
    if (await answers(apiEndpoint)) return performance.now() - since;
    const gone = exited();
    if (gone) throw new Error(gone);
    if (performance.now() - since > timeoutMs) {
      throw new Error(`${apiEndpoint} did not answer within ${timeoutMs / 1000} s`);
    }
    await sleep(5);
  }
}

export interface SpawnedCloud {
  readonly pid: number;
  readonly apiEndpoint: string;
  readonly mqttHost: string;
  readonly mqttPort: number;
  readonly caPem: string;
  readonly region: string;
  /** Spawn to the first 200 from the API, ms. */
  readonly startMs: number;
  /** CPU time the process tree had used by then, ms (undefined off Linux): steadier than wall time on a busy machine. */
  readonly startCpuMs?: number;
  readonly stateDir: string;
  /** Everything the process printed, for a failure message. */
  output(): string;
  /** SIGTERM, then waits for the exit (SIGKILL after 15 s); removes the state dir unless kept. */
  stop(): Promise<void>;
}

function watch(child: ChildProcess): { output: () => string; exited: () => string | undefined } {
  let out = '';
  let exit: string | undefined;
  child.stdout?.on('data', (d) => {
    out = (out + d).slice(-20_000);
  });
  child.stderr?.on('data', (d) => {
    out = (out + d).slice(-20_000);
  });
  child.on('exit', (code, signal) => {
    exit = `the process exited (${signal ?? `code ${code}`}) before answering:\n${out.trim().slice(-2000)}`;
  });
  return { output: () => out, exited: () => exit };
}

function stopper(child: ChildProcess, cleanup: () => void): () => Promise<void> {
  return async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await gone;
      clearTimeout(killer);
    }
    cleanup();
  };
}

/** Starts `zonectl local up` on free ports in a temp state dir and waits for its first API answer. */
export async function spawnLocalCloud(
  options: { assembly?: string; nodeArgs?: readonly string[] } = {},
): Promise<SpawnedCloud> {
  const stateDir = mkdtempSync(join(tmpdir(), 'zonectl-bench-spawned-'));
  const [apiPort, mqttPort] = [await freePort(), await freePort()];
  const apiEndpoint = `http://127.0.0.1:${apiPort}`;
  // ZONECTL_BENCH_CLOUD_NODE_ARGS: Node options for the spawned cloud only, such as
  // `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile the cloud under a stage's load.
  const extra = (process.env.ZONECTL_BENCH_CLOUD_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  const args = [...extra, ...(options.nodeArgs ?? []), ZONECTL, 'local', 'up', '--state-dir', stateDir];
  args.push('--api-port', String(apiPort));
  args.push('--mqtt-port', String(mqttPort));
  if (options.assembly) args.push('--assembly', options.assembly);
  const since = performance.now();
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const { output, exited } = watch(child);
  const stop = stopper(child, () => rmSync(stateDir, { recursive: true, force: true }));
  try {
    const startMs = await firstAnswerMs(apiEndpoint, since, 60_000, exited);
    const startCpuMs = procAvailable() ? treeUsage(child.pid!).cpuSeconds * 1000 : undefined;
    const endpoints = readLocalEndpoints(stateDir);
    return {
      pid: child.pid!,
      apiEndpoint,
      // the broker listens on 127.0.0.1; its certificate names both localhost and 127.0.0.1
      mqttHost: '127.0.0.1',
      mqttPort: endpoints.mqttPort,
      caPem: readFileSync(endpoints.caFile, 'utf8'),
      region: endpoints.region,
      startMs,
      ...(startCpuMs === undefined ? {} : { startCpuMs }),
      stateDir,
      output,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Starts a peer with its own shell command and waits until `apiEndpoint` answers. */
export async function spawnPeer(
  command: string,
  apiEndpoint: string,
): Promise<{ pid: number; startMs: number; startCpuMs?: number; stop(): Promise<void> }> {
  if (await answers(apiEndpoint)) {
    throw new Error(
      `something already answers at ${apiEndpoint}; stop it so the peer's start-up can be timed`,
    );
  }
  const since = performance.now();
  const child = spawn(command, { shell: true, stdio: ['ignore', 'pipe', 'pipe'], detached: false });
  const { exited } = watch(child);
  const stop = stopper(child, () => {});
  try {
    const startMs = await firstAnswerMs(apiEndpoint, since, 120_000, exited);
    const startCpuMs = procAvailable() ? treeUsage(child.pid!).cpuSeconds * 1000 : undefined;
    return { pid: child.pid!, startMs, ...(startCpuMs === undefined ? {} : { startCpuMs }), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * Resident memory of an idle process tree once it has stopped moving: samples every 0.5 s for
 * at least `minMs`, then until the last 3 s of samples lie within 1 MiB (or `maxMs` passed);
 * the median of those samples. V8 hands pages back a few seconds after start-up work, so an
 * earlier reading would be too high.
 */
export async function idleTreeMemory(
  pid: number,
  minMs = 5_000,
  maxMs = 30_000,
): Promise<number | undefined> {
  if (!procAvailable()) return undefined;
  const started = Date.now();
  const samples: number[] = [];
  for (;;) {
    samples.push(treeUsage(pid).rssBytes);
    const window = samples.slice(-6);
    const steady = window.length === 6 && Math.max(...window) - Math.min(...window) < MIB;
    const waited = Date.now() - started;
    if ((waited >= minMs && steady) || waited >= maxMs) return median(window);
    await sleep(500);
  }
}
