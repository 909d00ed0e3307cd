/**
 * An error a local service returns the way AWS would: the exception name the SDK maps to a
 * class (`code`), the HTTP status, and the message. The gateway renders it in the protocol
 * of the route that threw it (rest-json header + body, or awsJson `__type`).
 *
 * This module holds the base class and the exceptions several AWS service models share, with
 * the status those models give them; each service's own exceptions sit in its `errors.ts`,
 * built on these.
 */
export class AwsServiceError extends Error {
  override readonly name = 'AwsServiceError';
  constructor(
    /** Exception shape name, e.g. ResourceNotFoundException. */
    readonly code: string,
    readonly status: number,
    message: string,
    /** Extra members of the error shape, e.g. RejectedRecords for Timestream. */
    readonly fields: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** ResourceNotFoundException (404): IoT, IoT data plane, Lambda, Timestream. */
export const resourceNotFound = (message: string) =>
  new AwsServiceError('ResourceNotFoundException', 404, message);

/** InvalidRequestException (400): IoT control plane and IoT data plane. */
export const invalidRequest = (message: string) =>
  new AwsServiceError('InvalidRequestException', 400, message);

/** SerializationException (400): a JSON-protocol request body that is not a JSON object. */
export const serializationError = (message: string) =>
  new AwsServiceError('SerializationException', 400, message);

/** UnknownOperationException: no operation of the service matches the request. */
export const unknownOperation = (message: string, status = 404) =>
  new AwsServiceError('UnknownOperationException', status, message);
