/**
 * What the gateway itself answers, before or after a route: a refused browser request, a
 * request no route serves, a body over the size limit, and an internal failure of a route.
 * Codes are those AWS services share for these cases (AWS General Reference, "Common Errors").
 */
import { AwsServiceError } from '../common';
import type { AwsProtocol } from './types';

export { unknownOperation } from '../common';

export const accessDenied = (message: string) => new AwsServiceError('AccessDeniedException', 403, message);

export const requestEntityTooLarge = (message: string) =>
  new AwsServiceError('RequestEntityTooLargeException', 413, message);

/** A route failed with something other than an AwsServiceError; the details go to the log. */
export const internalFailure = (protocol: AwsProtocol, code?: string) =>
  new AwsServiceError(
    code ?? (protocol === 'rest-json' ? 'InternalFailureException' : 'InternalFailure'),
    500,
    'An internal error occurred in the local service',
  );
