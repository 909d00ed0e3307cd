/**
 * The Timestream query API (timestream-query) as a gateway route: awsJson1_0
 * `Timestream_20181101.<Operation>`, signing name `timestream` (Timestream API Reference,
 * "Query", "CancelQuery", "DescribeEndpoints"). The other query-API operations (scheduled
 * queries, PrepareQuery, account settings) are answered as not emulated.
 */
import { type AwsRequest, type AwsResponse, parseJsonObject, type ServiceRoute } from '../../gateway';
import { notEmulated } from '../errors';
import { describeEndpoints, ok, operationOf, QUERY_ROUTE } from '../protocol';
import type { QueryRunner } from './runner';

export function createTimestreamQueryRoute(runner: QueryRunner): ServiceRoute {
  return {
    ...QUERY_ROUTE,
    async handle(req: AwsRequest): Promise<AwsResponse> {
      const op = operationOf(req) ?? '';
      switch (op) {
        case 'DescribeEndpoints':
          return describeEndpoints(req);
        case 'Query':
          return ok(await runner.query(parseJsonObject(req.body)));
        case 'CancelQuery':
          // Queries finish before Query returns, so there is nothing left to cancel.
          return ok({ CancellationMessage: 'The query has already completed.' });
        default:
          throw notEmulated(op);
      }
    },
  };
}
