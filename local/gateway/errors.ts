/**
 * What the gateway itself answers, before or after a route: a refused browser request, a
 * request no route serves (or none serves yet, while the local cloud starts), a body over the
 * size limit, and an internal failure of a route.
 * Codes are those AWS services share for these cases (AWS General Reference, "Common Errors").
 */
import { AwsServiceError } from '../common';
import type { AwsProtocol } from './types';

export { unknownOperation } from '../common';

export const accessDenied = (message: string) => new AwsServiceError('AccessDeniedException', 403, message);

/** A request that arrived while the local cloud starts; SDKs and the CLI retry a 503. */
export const starting = () =>
  new AwsServiceError(
    'ServiceUnavailable',
    503,
    'The local cloud is starting and does not serve this request yet; try again in a moment',
  );

export const requestEntityTooLarge = (message: string) =>
  new AwsServiceError('RequestEntityTooLargeException', 413, message);

/** A route failed with something other than an AwsServiceError; the details go to the log. */
export const internalFailure = (protocol: AwsProtocol, code?: string) =>
  new AwsServiceError(
    code ?? (protocol === 'rest-json' ? 'InternalFailureException' : 'InternalFailure'),
    500,
    'An internal error occurred in the local service',
  );
