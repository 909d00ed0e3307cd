/**
 * Exceptions of AWS Secrets Manager (AWS Secrets Manager API Reference, "Common Errors" and the
 * errors of GetSecretValue, PutSecretValue, CreateSecret).
 */
import { AwsServiceError } from '../common';

export const secretNotFound = () =>
  new AwsServiceError('ResourceNotFoundException', 400, "Secrets Manager can't find the specified secret.");
export const secretExists = (name: string) =>
  new AwsServiceError(
    'ResourceExistsException',
    400,
    `The operation failed because the secret ${name} already exists.`,
  );
export const invalidParameter = (message: string) =>
  new AwsServiceError('InvalidParameterException', 400, message);
export const invalidRequest = (message: string) =>
  new AwsServiceError('InvalidRequestException', 400, message);
