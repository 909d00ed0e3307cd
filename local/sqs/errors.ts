import { AwsServiceError } from '../common';

/**
 * SQS errors over AWS JSON 1.0 with query compatibility (SQS Developer Guide, "Amazon SQS
 * AWS JSON protocol" / "Troubleshooting ... query API errors"): the body carries
 * `__type: com.amazonaws.sqs#<Shape>` and `message`; the `x-amzn-query-error` header carries
 * `<legacy query code>;Sender`. SDK v3 clients read the header first and map the legacy code
 * to the modeled class (QueueDoesNotExist for AWS.SimpleQueueService.NonExistentQueue).
 * The gateway renders both from the route's `errorNamespace` and the error's `queryCode`.
 */
export class SqsError extends AwsServiceError {
  constructor(
    code: string,
    /** The legacy query error code; the shape name when SQS has none. */
    readonly queryCode: string,
    status: number,
    message: string,
  ) {
    super(code, status, message);
  }
}

export const queueDoesNotExist = (what: string) =>
  new SqsError(
    'QueueDoesNotExist',
    'AWS.SimpleQueueService.NonExistentQueue',
    400,
    `The specified queue does not exist${what ? `: ${what}` : ''}.`,
  );
export const invalidParameter = (message: string) =>
  new SqsError('InvalidParameterValue', 'InvalidParameterValue', 400, message);
export const missingParameter = (name: string) =>
  new SqsError(
    'MissingParameter',
    'MissingParameter',
    400,
    `The request must contain the parameter ${name}.`,
  );
export const invalidAttributeName = (name: string) =>
  new SqsError('InvalidAttributeName', 'InvalidAttributeName', 400, `Unknown Attribute ${name}.`);
export const invalidAttributeValue = (name: string, reason: string) =>
  new SqsError(
    'InvalidAttributeValue',
    'InvalidAttributeValue',
    400,
    `Invalid value for the parameter ${name}. Reason: ${reason}`,
  );
export const queueAlreadyExists = (name: string, attribute: string) =>
  new SqsError(
    'QueueNameExists',
    'QueueAlreadyExists',
    400,
    `A queue already exists with the same name (${name}) and a different value for attribute ${attribute}`,
  );
export const receiptHandleIsInvalid = (handle: string) =>
  new SqsError(
    'ReceiptHandleIsInvalid',
    'ReceiptHandleIsInvalid',
    404,
    `The input receipt handle "${handle.slice(0, 64)}" is not a valid receipt handle.`,
  );
export const messageNotInflight = () =>
  new SqsError(
    'MessageNotInflight',
    'AWS.SimpleQueueService.MessageNotInflight',
    400,
    'The message referred to is not in flight.',
  );
export const invalidMessageContents = (reason: string) =>
  new SqsError('InvalidMessageContents', 'InvalidMessageContents', 400, reason);
export const emptyBatch = () =>
  new SqsError(
    'EmptyBatchRequest',
    'AWS.SimpleQueueService.EmptyBatchRequest',
    400,
    'There should be at least one entry in the request.',
  );
export const tooManyEntries = (n: number) =>
  new SqsError(
    'TooManyEntriesInBatchRequest',
    'AWS.SimpleQueueService.TooManyEntriesInBatchRequest',
    400,
    `Maximum number of entries per request are 10. You have sent ${n}.`,
  );
export const batchIdsNotDistinct = (id: string) =>
  new SqsError(
    'BatchEntryIdsNotDistinct',
    'AWS.SimpleQueueService.BatchEntryIdsNotDistinct',
    400,
    `Id ${id} repeated.`,
  );
export const invalidBatchEntryId = (id: string) =>
  new SqsError(
    'InvalidBatchEntryId',
    'AWS.SimpleQueueService.InvalidBatchEntryId',
    400,
    `A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long. Got: ${id.slice(0, 100)}`,
  );
export const batchRequestTooLong = (bytes: number, limit: number) =>
  new SqsError(
    'BatchRequestTooLong',
    'AWS.SimpleQueueService.BatchRequestTooLong',
    400,
    `Batch requests cannot be longer than ${limit} bytes. You have sent ${bytes} bytes.`,
  );
export const unsupportedOperation = (op: string) =>
  new SqsError(
    'UnsupportedOperation',
    'AWS.SimpleQueueService.UnsupportedOperation',
    400,
    `The local SQS does not support the operation ${op}.`,
  );

/**
 * The local disk refused to store a message (full, read-only, failing). SQS's own answer to a
 * temporary failure is ServiceUnavailable (503, "Common Errors"), which SDKs retry.
 */
export const serviceUnavailable = (reason: string) =>
  new SqsError(
    'ServiceUnavailable',
    'ServiceUnavailable',
    503,
    `The local SQS could not store the request: ${reason}. Try again once the disk has room.`,
  );
/** Common query-protocol errors (Amazon SQS API Reference, "Common Errors"). */
export const missingAction = () =>
  new SqsError(
    'MissingAction',
    'MissingAction',
    400,
    'The request is missing an action or a required parameter: pass Action=<operation>, e.g. Action=ListQueues.',
  );
export const invalidAction = (action: string) =>
  new SqsError(
    'InvalidAction',
    'InvalidAction',
    400,
    `The action or operation requested is invalid: ${action.slice(0, 100)} is not an Amazon SQS operation.`,
  );
