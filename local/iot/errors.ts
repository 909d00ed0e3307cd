/** Exceptions of the AWS IoT control plane, with the HTTP status the IoT model gives each. */
import { AwsServiceError } from '../common/aws-error';

export const resourceNotFound = (message: string) =>
  new AwsServiceError('ResourceNotFoundException', 404, message);
export const invalidRequest = (message: string) =>
  new AwsServiceError('InvalidRequestException', 400, message);
export const resourceAlreadyExists = (message: string, resourceId: string, resourceArn: string) =>
  new AwsServiceError('ResourceAlreadyExistsException', 409, message, { resourceId, resourceArn });
export const certificateState = (message: string) =>
  new AwsServiceError('CertificateStateException', 406, message);
export const deleteConflict = (message: string) =>
  new AwsServiceError('DeleteConflictException', 409, message);
export const versionConflict = (message: string) =>
  new AwsServiceError('VersionConflictException', 409, message);
export const limitExceeded = (message: string) => new AwsServiceError('LimitExceededException', 410, message);
export const sqlParse = (message: string) => new AwsServiceError('SqlParseException', 400, message);
/**
 * GetTopicRule and DeleteTopicRule model no ResourceNotFoundException: an unknown rule is
 * answered with UnauthorizedException (401).
 */
export const unauthorized = (message: string) => new AwsServiceError('UnauthorizedException', 401, message);
