import type { LocalLogger } from '../common';
import { FunctionInstance, type InstanceOutcome } from './instance';
import type { FunctionDefinition } from './types';

/** errorType of a call that reached a pool after its function was replaced or deleted. */
export const POOL_RETIRED = 'ResourceNotFoundException';

export interface PoolOptions {
  readonly maxInstances: number;
  readonly idleTimeoutMs: number;
}

/**
 * The execution environments of one function version: warm idle instances are reused (most
 * recently used first), new ones start up to the concurrency cap, and callers past the cap
 * wait their turn. Idle instances stop after `idleTimeoutMs` (Lambda Developer Guide,
 * "Lambda execution environment lifecycle", "Understanding Lambda function scaling").
 */
export class FunctionPool {
  private readonly idle: FunctionInstance[] = [];
  private readonly idleTimers = new Map<FunctionInstance, NodeJS.Timeout>();
  private readonly waiting: Array<() => void> = [];
  private readonly all = new Set<FunctionInstance>();
  private total = 0;
  private retired = false;
  /** Cold starts so far; for logs and tests. */
  coldStarts = 0;

  constructor(
    readonly def: FunctionDefinition,
    private readonly env: Record<string, string>,
    private readonly logger: LocalLogger,
    private readonly options: PoolOptions,
  ) {}

  get size(): number {
    return this.total;
  }

  async invoke(
    requestId: string,
    event: unknown,
    context: Record<string, unknown>,
  ): Promise<InstanceOutcome> {
    const acquired = await this.acquire();
    if ('initError' in acquired) return { ok: false, error: acquired.initError };
    const instance = acquired.instance;
    try {
      return await instance.invoke(requestId, event, context);
    } finally {
      this.release(instance);
    }
  }

  private async acquire(): Promise<
    { instance: FunctionInstance } | { initError: import('./types').FunctionErrorPayload }
  > {
    for (;;) {
      if (this.retired) {
        return {
          initError: {
            errorType: 'ResourceNotFoundException',
            errorMessage: 'The function was replaced or deleted',
            trace: [],
          },
        };
      }
      let instance = this.idle.pop();
      while (instance && !instance.alive) {
        this.forget(instance);
        instance = this.idle.pop();
      }
      if (instance) {
        clearTimeout(this.idleTimers.get(instance));
        this.idleTimers.delete(instance);
        return { instance };
      }
      if (this.total < this.options.maxInstances) {
        this.total++;
        this.coldStarts++;
        const started = Date.now();
        const result = await FunctionInstance.start(this.def, this.env, this.logger);
        if ('initError' in result) {
          this.total--;
          this.wakeOne();
          this.logger.warn(
            `${this.def.functionName} init failed: ${result.initError.errorType}: ${result.initError.errorMessage}`,
          );
          return result;
        }
        this.all.add(result.instance);
        this.logger.info(
          `${this.def.functionName} cold start: instance ${result.instance.id} ready in ${Date.now() - started} ms`,
        );
        return result;
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  private release(instance: FunctionInstance): void {
    if (!instance.alive || this.retired) {
      instance.kill();
      this.forget(instance);
      return;
    }
    this.idle.push(instance);
    const timer = setTimeout(() => {
      const i = this.idle.indexOf(instance);
      if (i >= 0) this.idle.splice(i, 1);
      this.idleTimers.delete(instance);
      instance.kill();
      this.forget(instance);
      this.logger.info(`${this.def.functionName} instance ${instance.id} stopped after being idle`);
    }, this.options.idleTimeoutMs);
    timer.unref();
    this.idleTimers.set(instance, timer);
    this.wakeOne();
  }

  private forget(instance: FunctionInstance): void {
    if (!this.all.delete(instance)) return;
    this.total = Math.max(0, this.total - 1);
    this.wakeOne();
  }

  private wakeOne(): void {
    this.waiting.shift()?.();
  }

  /** Stops idle instances now and busy ones when their invocation ends; new calls are refused. */
  retire(): void {
    this.retired = true;
    for (const instance of this.idle.splice(0)) {
      clearTimeout(this.idleTimers.get(instance));
      instance.kill();
    }
    this.idleTimers.clear();
    for (const w of this.waiting.splice(0)) w();
  }

  /** Retires the pool and kills every instance, busy ones included (their calls fail). */
  stop(): void {
    this.retire();
    for (const instance of this.all) instance.kill();
  }
}
