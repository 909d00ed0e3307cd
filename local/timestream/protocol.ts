/**
 * awsJson1_0 plumbing shared by the Timestream write and query routes (aws-semantics §5.2):
 * both APIs use the target prefix `Timestream_20181101` and the signing name `timestream`.
 */
import { AwsServiceError } from '../common/aws-error';
import type { AwsRequest, AwsResponse } from '../gateway/types';

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

export function jsonBody(req: AwsRequest): Record<string, unknown> {
  if (req.body.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(req.body.toString('utf8'));
  } catch (err) {
    throw new AwsServiceError(
      'SerializationException',
      400,
      `The request body is not valid JSON: ${(err as Error).message}`,
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new AwsServiceError('SerializationException', 400, 'The request body must be a JSON object.');
  }
  return parsed as Record<string, unknown>;
}

export const ok = (body: object): AwsResponse => ({ status: 200, body });

/**
 * DescribeEndpoints (aws-semantics §5.2): the local cloud answers with its own address, taken
 * from the Host header the client used, cached for a day as AWS's cells are.
 */
export function describeEndpoints(req: AwsRequest): AwsResponse {
  const host = req.headers['host'] ?? 'localhost';
  return ok({ Endpoints: [{ Address: host, CachePeriodInMinutes: 1440 }] });
}

export function unsupported(op: string): AwsServiceError {
  return new AwsServiceError(
    'UnknownOperationException',
    400,
    `The local Timestream does not emulate ${op}.`,
  );
}
