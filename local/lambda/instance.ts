import { type ChildProcess, fork } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { LocalLogger } from '../common';
import type { FunctionDefinition, FunctionErrorPayload } from './types';

const BOOTSTRAP = fileURLToPath(new URL('./bootstrap.mjs', import.meta.url));

/** Init phase limit (Lambda: 10 s for on-demand functions, "Lambda execution environment lifecycle"). */
const INIT_TIMEOUT_MS = 10_000;

export type InstanceOutcome =
  | { readonly ok: true; readonly payload: string }
  | { readonly ok: false; readonly error: FunctionErrorPayload };

type ChildMessage =
  | { type: 'ready' }
  | { type: 'initError'; error: FunctionErrorPayload }
  | { type: 'result'; requestId: string; payload: string }
  | { type: 'error'; requestId: string; error: FunctionErrorPayload };

interface Pending {
  readonly requestId: string;
  readonly resolve: (outcome: InstanceOutcome) => void;
  readonly timer: NodeJS.Timeout;
}

let instanceSeq = 0;

/**
 * One execution environment: a child process running bootstrap.mjs with the function's
 * environment and nothing of the parent's. It serves one invocation at a time, as Lambda's
 * environments do. A timeout or a crash ends it; the pool starts a fresh one.
 */
export class FunctionInstance {
  private pending: Pending | undefined;
  private exited = false;
  readonly id = ++instanceSeq;

  private constructor(
    private readonly child: ChildProcess,
    private readonly def: FunctionDefinition,
    readonly logStreamName: string,
  ) {}

  get alive(): boolean {
    return !this.exited;
  }

  /** Starts the process and runs the Init phase; resolves with the instance or the init error. */
  static start(
    def: FunctionDefinition,
    env: Record<string, string>,
    logger: LocalLogger,
  ): Promise<{ instance: FunctionInstance } | { initError: FunctionErrorPayload }> {
    const logStreamName = `${new Date().toISOString().slice(0, 10).replaceAll('-', '/')}/[$LATEST]${Math.random().toString(16).slice(2, 18)}`;
    const child = fork(BOOTSTRAP, [], {
      cwd: def.codeDir,
      env: { ...env, AWS_LAMBDA_LOG_STREAM_NAME: logStreamName },
      execArgv: [],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
      // A process group of its own: Ctrl-C in the terminal signals the cloud's group, and the
      // cloud ends its instances itself. If the cloud dies, the IPC channel closes and the
      // instance exits (bootstrap.mjs).
      detached: true,
    });
    const instance = new FunctionInstance(child, def, logStreamName);
    const prefix = def.functionName;
    if (child.stdout)
      createInterface({ input: child.stdout }).on('line', (l) => logger.info(`${prefix} ${l}`));
    if (child.stderr)
      createInterface({ input: child.stderr }).on('line', (l) => logger.warn(`${prefix} ${l}`));

    return new Promise((resolve) => {
      let initDone = false;
      const initTimer = setTimeout(() => {
        finishInit({
          initError: {
            errorType: 'Runtime.InitTimeout',
            errorMessage: `Init phase did not finish within ${INIT_TIMEOUT_MS / 1000} seconds`,
            trace: [],
          },
        });
        instance.kill();
      }, INIT_TIMEOUT_MS);
      const finishInit = (r: { instance: FunctionInstance } | { initError: FunctionErrorPayload }) => {
        if (initDone) return;
        initDone = true;
        clearTimeout(initTimer);
        resolve(r);
      };
      child.on('message', (raw) => {
        const m = raw as ChildMessage;
        if (m.type === 'ready') finishInit({ instance });
        else if (m.type === 'initError') {
          finishInit({ initError: m.error });
          instance.kill();
        } else instance.onResult(m);
      });
      child.on('error', (err) => {
        finishInit({ initError: { errorType: 'Runtime.StartError', errorMessage: err.message, trace: [] } });
      });
      child.on('exit', (code, signal) => {
        instance.exited = true;
        const how = signal ? `signal: ${signal}` : `exit status ${code}`;
        finishInit({
          initError: {
            errorType: 'Runtime.ExitError',
            errorMessage: `Runtime exited during init with error: ${how}`,
            trace: [],
          },
        });
        instance.settle({
          ok: false,
          error: {
            errorType: 'Runtime.ExitError',
            errorMessage: `RequestId: ${instance.pending?.requestId ?? ''} Error: Runtime exited with error: ${how}`,
            trace: [],
          },
        });
      });
    });
  }

  /** Runs one invocation; the timeout kills the instance (Lambda "Configuring function timeout"). */
  invoke(requestId: string, event: unknown, context: Record<string, unknown>): Promise<InstanceOutcome> {
    if (this.exited || this.pending) {
      return Promise.resolve({
        ok: false,
        error: {
          errorType: 'Runtime.ExitError',
          errorMessage: 'The execution environment is gone',
          trace: [],
        },
      });
    }
    const timeoutSeconds = this.def.timeoutSeconds ?? 3;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.settle({
          ok: false,
          error: {
            errorType: 'Sandbox.Timedout',
            errorMessage: `RequestId: ${requestId} Error: Task timed out after ${timeoutSeconds.toFixed(2)} seconds`,
            trace: [],
          },
        });
        this.kill();
      }, timeoutSeconds * 1000);
      this.pending = { requestId, resolve, timer };
      const deadlineMs = Date.now() + timeoutSeconds * 1000;
      this.child.send({
        type: 'invoke',
        requestId,
        event,
        context: { ...context, deadlineMs, logStreamName: this.logStreamName },
      });
    });
  }

  private onResult(m: ChildMessage): void {
    if (m.type !== 'result' && m.type !== 'error') return;
    if (!this.pending || this.pending.requestId !== m.requestId) return;
    this.settle(m.type === 'result' ? { ok: true, payload: m.payload } : { ok: false, error: m.error });
  }

  private settle(outcome: InstanceOutcome): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    clearTimeout(p.timer);
    p.resolve(outcome);
  }

  kill(): void {
    if (this.exited) return;
    this.exited = true;
    this.child.kill('SIGKILL');
  }
}
