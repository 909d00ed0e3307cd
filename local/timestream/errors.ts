/**
 * Exceptions of Amazon Timestream for LiveAnalytics (timestream-write and timestream-query),
 * with the HTTP status the service models give each (Timestream API Reference, "Common
 * Errors" and the "Errors" of WriteRecords, CreateDatabase, CreateTable and Query).
 */
import { AwsServiceError, unknownOperation } from '../common';
import type { RejectedRecord } from './write/writer';

export { resourceNotFound, serializationError } from '../common';

/** ValidationException (400): an invalid or unsupported request. */
export const validation = (message: string) => new AwsServiceError('ValidationException', 400, message);

/** ConflictException (409): CreateDatabase or CreateTable of a name that exists. */
export const conflict = (message: string) => new AwsServiceError('ConflictException', 409, message);

/** RejectedRecordsException (419): WriteRecords stored the other records but not these. */
export const rejectedRecords = (records: readonly RejectedRecord[]) =>
  new AwsServiceError(
    'RejectedRecordsException',
    419,
    'One or more records have been rejected. See RejectedRecords for details.',
    { RejectedRecords: records },
  );

/** InternalServerException (500): the local store is closed. */
export const storeClosed = () =>
  new AwsServiceError('InternalServerException', 500, 'The local Timestream is closed.');

/** An operation of the Timestream APIs that the local Timestream does not emulate. */
export const notEmulated = (operation: string) =>
  unknownOperation(`The local Timestream does not emulate ${operation}.`, 400);
