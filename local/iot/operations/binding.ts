/**
 * How an operation of the `iot` API is bound to HTTP, as the AWS IoT Smithy model binds it:
 * method and path (labels such as `/things/{thingName}`), query parameters, headers and a JSON
 * body. Each resource's module lists its operations; the route (../route.ts) finds the one a
 * request names and calls it with the registry.
 */
import type { AwsRequest, AwsResponse } from '../../gateway';
import { invalidRequest } from '../errors';
import type { IotRegistry } from '../registry';

export interface OperationContext {
  readonly req: AwsRequest;
  readonly labels: readonly string[];
  readonly registry: IotRegistry;
  /** The JSON body, parsed on first use (InvalidRequestException when it is not a JSON object). */
  body(): Record<string, unknown>;
}

export interface Operation {
  readonly name: string;
  readonly method: string;
  /** Path segments; `{}` is a label. */
  readonly segments: readonly string[];
  readonly handle: (ctx: OperationContext) => AwsResponse | Promise<AwsResponse>;
}

export const ok = (body?: object): AwsResponse => (body ? { status: 200, body } : { status: 200 });
/** The IoT API's timestamps are epoch seconds. */
export const seconds = (ms: number) => ms / 1000;
export const withToken = (key: string, token: string | undefined) => (token ? { [key]: token } : {});
export const label = (ctx: OperationContext, i: number) => ctx.labels[i] ?? '';

export function queryInt(req: AwsRequest, name: string): number | undefined {
  const v = req.query.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw invalidRequest(`${name} must be an integer; got ${v}`);
  return n;
}

export function queryBool(req: AwsRequest, name: string): boolean | undefined {
  const v = req.query.get(name);
  if (v === null || v === '') return undefined;
  if (v !== 'true' && v !== 'false') throw invalidRequest(`${name} must be true or false; got ${v}`);
  return v === 'true';
}

export function str(body: Record<string, unknown>, name: string, required = false): string | undefined {
  const v = body[name];
  if (v === undefined || v === null) {
    if (required) throw invalidRequest(`${name} is required`);
    return undefined;
  }
  if (typeof v !== 'string') throw invalidRequest(`${name} must be a string`);
  return v;
}
