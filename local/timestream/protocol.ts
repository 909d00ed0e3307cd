/**
 * awsJson1_0 plumbing shared by the Timestream write and query routes: both APIs use the
 * target prefix `Timestream_20181101` and the signing name `timestream` (the timestream-write
 * and timestream-query service models the AWS SDKs are generated from), and both answer
 * DescribeEndpoints.
 */
import type { RouteShape } from '../common';
import type { AwsRequest, AwsResponse } from '../gateway';

export const TARGET_PREFIX = 'Timestream_20181101.';

/** Operations of the query API (timestream-query model); everything else under the prefix is the write API's. */
export const QUERY_OPERATIONS: ReadonlySet<string> = new Set([
  'Query',
  'CancelQuery',
  'PrepareQuery',
  'CreateScheduledQuery',
  'DeleteScheduledQuery',
  'DescribeScheduledQuery',
  'ExecuteScheduledQuery',
  'ListScheduledQueries',
  'UpdateScheduledQuery',
  'DescribeAccountSettings',
  'UpdateAccountSettings',
]);

export function operationOf(req: AwsRequest): string | undefined {
  const target = req.target ?? req.headers['x-amz-target'];
  if (!target?.startsWith(TARGET_PREFIX)) return undefined;
  return target.slice(TARGET_PREFIX.length);
}

/** The write API's requests: every operation under the prefix but the query API's. */
export function isWriteRequest(req: AwsRequest): boolean {
  const op = operationOf(req);
  return op !== undefined && !QUERY_OPERATIONS.has(op);
}

/** The query API's requests, and DescribeEndpoints (which both APIs answer alike). */
export function isQueryRequest(req: AwsRequest): boolean {
  const op = operationOf(req);
  return op === 'DescribeEndpoints' || (op !== undefined && QUERY_OPERATIONS.has(op));
}

/** The write API's route, all but its handler (./write/route; ./deferred before it loads). */
export const WRITE_ROUTE: RouteShape = {
  name: 'timestream-write',
  protocol: 'json-1.0',
  internalErrorCode: 'InternalServerException',
  matches: isWriteRequest,
};

/** The query API's route, all but its handler (./query/route; ./deferred before it loads). */
export const QUERY_ROUTE: RouteShape = {
  name: 'timestream-query',
  protocol: 'json-1.0',
  internalErrorCode: 'InternalServerException',
  matches: isQueryRequest,
};

export const ok = (body: object): AwsResponse => ({ status: 200, body });

/**
 * DescribeEndpoints (Timestream Developer Guide, "How the endpoint discovery pattern works" and
 * "Implementing the endpoint discovery pattern"): the local cloud answers with its own host name, taken
 * from the Host header the client used, cached for a day as AWS's cells are. Like AWS's cell
 * addresses it carries no port: the AWS SDK v3 replaces only the hostname of the endpoint it
 * was configured with (middleware-endpoint-discovery sets `request.hostname`), so scheme and
 * port stay those of the local endpoint. A client that sets its endpoint explicitly (SDK
 * `endpoint`, CLI `--endpoint-url`) skips discovery altogether.
 */
export function describeEndpoints(req: AwsRequest): AwsResponse {
  return ok({
    Endpoints: [{ Address: hostOnly(req.headers['host'] ?? 'localhost'), CachePeriodInMinutes: 1440 }],
  });
}

/** `127.0.0.1:4566` -> `127.0.0.1`; `[::1]:4566` -> `::1`. */
export function hostOnly(host: string): string {
  const v6 = /^\[([^\]]+)\](:\d+)?$/.exec(host);
  if (v6) return v6[1]!;
  return host.replace(/:\d+$/, '');
}
