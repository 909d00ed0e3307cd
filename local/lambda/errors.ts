/**
 * Exceptions of the Lambda API, with the HTTP status the Lambda model gives each (Lambda API
 * Reference, "Invoke", "GetFunction", "GetEventSourceMapping" > Errors).
 */
import { AwsServiceError, resourceNotFound, unknownOperation } from '../common';

/** ResourceNotFoundException (404): no function of that name or ARN. */
export const functionNotFound = (nameOrArn: string) => resourceNotFound(`Function not found: ${nameOrArn}`);

export const invalidParameterValue = (message: string) =>
  new AwsServiceError('InvalidParameterValueException', 400, message);

/** The request body is not JSON. */
export const invalidRequestContent = () =>
  new AwsServiceError('InvalidRequestContentException', 400, 'Could not parse request body into json');

/**
 * TooManyRequestsException (429): the local asynchronous queue of the function is at its bound
 * (Lambda API Reference, "Invoke" > Errors; AWS's own queue has no bound a caller reaches).
 */
export const tooManyRequests = (message: string) =>
  new AwsServiceError('TooManyRequestsException', 429, message, { Reason: 'CallerRateLimitExceeded' });

/** ResourceNotFoundException (404) for an event source mapping UUID that names none. */
export const eventSourceMappingNotFound = (uuid: string) =>
  resourceNotFound(`The resource you requested does not exist. (Event source mapping ${uuid})`);

/** A Lambda API call the local Lambda does not serve. */
export const operationNotServed = (what: string) =>
  unknownOperation(
    `The local Lambda serves Invoke, ListFunctions, GetFunction, GetFunctionConfiguration, ListEventSourceMappings and GetEventSourceMapping; ${what} is not emulated`,
  );
