/**
 * Exceptions of the AWS IoT control plane (`iot`), with the HTTP status the AWS IoT API model
 * gives each (AWS IoT API Reference, "Errors" of each operation).
 */
import { AwsServiceError } from '../common';

export { invalidRequest, resourceNotFound, unknownOperation } from '../common';

export const resourceAlreadyExists = (message: string, resourceId: string, resourceArn: string) =>
  new AwsServiceError('ResourceAlreadyExistsException', 409, message, { resourceId, resourceArn });
export const certificateState = (message: string) =>
  new AwsServiceError('CertificateStateException', 406, message);
export const deleteConflict = (message: string) =>
  new AwsServiceError('DeleteConflictException', 409, message);
export const versionConflict = (message: string) =>
  new AwsServiceError('VersionConflictException', 409, message);
export const limitExceeded = (message: string) => new AwsServiceError('LimitExceededException', 410, message);
/** CreatePolicy: a document that is not a valid policy. */
export const malformedPolicy = (message: string) =>
  new AwsServiceError('MalformedPolicyException', 400, message);
export const sqlParse = (message: string) => new AwsServiceError('SqlParseException', 400, message);
/**
 * GetTopicRule and DeleteTopicRule model no ResourceNotFoundException: an unknown rule is
 * answered with UnauthorizedException (401).
 */
export const unauthorized = (message: string) => new AwsServiceError('UnauthorizedException', 401, message);

/**
 * ServiceUnavailableException (503): the local disk refused to store a change (AWS IoT API
 * Reference, common errors of the control plane operations). The change stays in memory and is
 * written once the disk has room; SDKs retry.
 */
export const serviceUnavailable = (reason: string) =>
  new AwsServiceError(
    'ServiceUnavailableException',
    503,
    `The local registry could not store the change: ${reason}`,
  );
