/**
 * A service that is loaded on its first use instead of at start-up: its code (and whatever it
 * opens, such as DuckDB's native library) costs nothing until a request, a deploy or another
 * service needs it. `get()` starts it once; callers that arrive while it starts wait for the
 * same start. A start that fails is not remembered: the caller gets the error and the next
 * caller tries again (a damaged state file stays the operator's to fix, as at start-up).
 *
 * `deferredRoute` is a gateway route whose `matches` is known without the service (it must be
 * cheap and must not load it); its first `handle` starts the service and waits for it.
 *
 * LIMITATIONS: `close()` during a start waits for that start and closes what it made; a `get()`
 * after `close()` is refused, so nothing starts while the cloud stops.
 */
import type { AwsRequest, AwsResponse, ServiceRoute } from '../gateway/types';

export class Deferred<T> {
  private starting: Promise<T> | undefined;
  private started: T | undefined;
  private closed = false;

  constructor(
    private readonly start: () => Promise<T>,
    private readonly stop: (service: T) => Promise<void>,
  ) {}

  /** The service, started now if it was not yet. */
  get(): Promise<T> {
    if (this.started !== undefined) return Promise.resolve(this.started);
    if (this.closed) return Promise.reject(new Error('the local cloud is stopping'));
    this.starting ??= this.start().then(
      (service) => {
        this.started = service;
        return service;
      },
      (err: unknown) => {
        this.starting = undefined;
        throw err;
      },
    );
    return this.starting;
  }

  /** The service if it has started, else undefined (it is not started by asking). */
  get current(): T | undefined {
    return this.started;
  }

  /** Stops the service if it started (waiting for a start under way); later `get()`s are refused. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.starting) await this.starting.catch(() => {});
    if (this.started !== undefined) await this.stop(this.started);
  }
}

/** What a route says about itself before its service is loaded: everything but `handle`. */
export type RouteShape = Omit<ServiceRoute, 'handle'>;

/** A gateway route that loads its service on the first request it matches. */
export function deferredRoute(shape: RouteShape, route: () => Promise<ServiceRoute>): ServiceRoute {
  return {
    ...shape,
    async handle(req: AwsRequest): Promise<AwsResponse> {
      return (await route()).handle(req);
    },
  };
}
