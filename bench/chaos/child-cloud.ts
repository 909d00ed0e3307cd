/**
 * The local cloud as a user runs it, in a child process (`zonectl local up`), so a fault case
 * can kill it the way a crash or Ctrl-C would: SIGKILL leaves whatever was on disk, SIGTERM asks
 * for the clean stop. Ports are ephemeral; the endpoints come from the state dir's
 * endpoints.json once the command says it is ready.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { type LocalEndpoints, readLocalEndpoints } from '../../contracts';

export interface ChildCloud {
  readonly endpoints: LocalEndpoints;
  readonly pid: number;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Sends a signal and waits for the process to exit; resolves with its exit code or signal. */
  stop(
    signal: NodeJS.Signals,
    timeoutMs?: number,
  ): Promise<{ code: number | null; signal: string | null; ms: number }>;
  /** Whether the process is still running. */
  alive(): boolean;
}

export interface StartOptions {
  readonly repoRoot: string;
  readonly stateDir: string;
  /** Deploy this assembly once started (`--assembly`). */
  readonly assembly?: string;
  /** How long to wait for "ready"; default 60 s. */
  readonly readyTimeoutMs?: number;
}

/** Starts `zonectl local up` on the state dir and waits until it says it is ready. */
export async function startChildCloud(o: StartOptions): Promise<ChildCloud> {
  const args = [
    join(o.repoRoot, 'bin', 'zonectl.mjs'),
    'local',
    'up',
    '--state-dir',
    o.stateDir,
    '--mqtt-port',
    '0',
    '--api-port',
    '0',
    ...(o.assembly ? ['--assembly', o.assembly] : []),
  ];
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: o.repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  let exited: { code: number | null; signal: string | null } | undefined;
  const exit = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      resolve(exited);
    });
  });
  const readyTimeout = o.readyTimeoutMs ?? 60_000;
  const started = Date.now();
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (out.includes('ready. Ctrl-C to stop.')) {
        clearInterval(timer);
        resolve();
      } else if (exited) {
        clearInterval(timer);
        reject(
          new Error(`zonectl local up exited (${exited.code ?? exited.signal}) before it was ready:\n${out}`),
        );
      } else if (Date.now() - started > readyTimeout) {
        clearInterval(timer);
        child.kill('SIGKILL');
        reject(new Error(`zonectl local up was not ready within ${readyTimeout} ms:\n${out}`));
      }
    }, 50);
  });
  const endpoints = readLocalEndpoints(o.stateDir);
  return {
    endpoints,
    pid: child.pid ?? -1,
    output: () => out,
    alive: () => exited === undefined,
    async stop(signal, timeoutMs = 60_000) {
      const t0 = Date.now();
      if (exited) return { ...exited, ms: 0 };
      child.kill(signal);
      let timer: NodeJS.Timeout | undefined;
      const result = await Promise.race([
        exit,
        new Promise<undefined>((resolve) => {
          timer = setTimeout(() => resolve(undefined), timeoutMs);
        }),
      ]);
      clearTimeout(timer);
      if (!result) {
        child.kill('SIGKILL');
        const killed = await exit;
        return { ...killed, ms: Date.now() - t0 };
      }
      return { ...result, ms: Date.now() - t0 };
    },
  };
}
