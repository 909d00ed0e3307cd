import type { MessageBus } from '../broker';
import type { LocalLogger } from '../common';
import type { ServiceRoute } from '../gateway';
import type { PrincipalDirectory } from '../iot';

export interface ShadowServiceOptions {
  readonly bus: MessageBus;
  readonly directory: PrincipalDirectory;
  /** Shadows live in `<stateDir>/shadow/`. */
  readonly stateDir: string;
  readonly logger: LocalLogger;
  /** Clock in epoch seconds; for tests. */
  readonly now?: () => number;
}

export interface ListNamedShadowsResult {
  readonly results: string[];
  readonly nextToken?: string;
  readonly timestamp: number;
}

/** The shadow operations, as the HTTP API and in-process callers use them. Errors are ShadowError. */
export interface ShadowApi {
  get(thingName: string, shadowName?: string): object;
  /** Applies an update document (raw JSON or an object); returns the accepted document. */
  update(
    thingName: string,
    shadowName: string | undefined,
    document: Buffer | string | object,
  ): Promise<object>;
  delete(thingName: string, shadowName?: string): Promise<object>;
  listNamedShadows(
    thingName: string,
    options?: { nextToken?: string; pageSize?: number },
  ): ListNamedShadowsResult;
}

export interface ShadowService {
  readonly route: ServiceRoute;
  readonly api: ShadowApi;
  close(): Promise<void>;
}
