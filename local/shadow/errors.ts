/**
 * Errors of the Device Shadow service. A refusal is a ShadowError carrying the code and
 * message of the Device Shadow error document (AWS IoT Core Developer Guide, "Device Shadow
 * error messages"): the MQTT API publishes it on `/rejected`, and the HTTP data plane
 * (`iot-data`) answers with the exception its model gives that status (AWS IoT data plane API
 * Reference, "Errors" of GetThingShadow, UpdateThingShadow, DeleteThingShadow, Publish).
 */
import { AwsServiceError } from '../common';

export { invalidRequest } from '../common';

/** A refusal with the Device Shadow error document's code (HTTP status) and message. */
export class ShadowError extends Error {
  override readonly name = 'ShadowError';
  constructor(
    readonly code: 400 | 401 | 403 | 404 | 409 | 413 | 415 | 429 | 500 | 503,
    message: string,
  ) {
    super(message);
  }
}

/** iot-data exception shapes by status (model `iot-data-plane`). */
const EXCEPTIONS: Record<number, string> = {
  400: 'InvalidRequestException',
  401: 'UnauthorizedException',
  403: 'ForbiddenException',
  404: 'ResourceNotFoundException',
  405: 'MethodNotAllowedException',
  409: 'ConflictException',
  413: 'RequestEntityTooLargeException',
  415: 'UnsupportedDocumentEncodingException',
  429: 'ThrottlingException',
  500: 'InternalFailureException',
  503: 'ServiceUnavailableException',
};

/** The iot-data exception for a ShadowError, as the HTTP API answers it. */
export function toAwsError(err: ShadowError): AwsServiceError {
  return new AwsServiceError(EXCEPTIONS[err.code] ?? 'InternalFailureException', err.code, err.message);
}

export const methodNotAllowed = (message: string) =>
  new AwsServiceError('MethodNotAllowedException', 405, message);

/** Publish: a payload over the message broker's 128 KB limit. */
export const payloadTooLarge = () =>
  new AwsServiceError('RequestEntityTooLargeException', 413, 'The payload exceeds the maximum size allowed');
