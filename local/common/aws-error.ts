/**
 * An error a local service returns the way AWS would: the exception name the SDK maps to a
 * class (`code`), the HTTP status, and the message. The gateway renders it in the protocol
 * of the service that threw it (rest-json header + body, or awsJson `__type`).
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

export const notFound = (message: string) => new AwsServiceError('ResourceNotFoundException', 404, message);
export const invalidRequest = (message: string) =>
  new AwsServiceError('InvalidRequestException', 400, message);
export const conflict = (message: string) =>
  new AwsServiceError('ResourceAlreadyExistsException', 409, message);
