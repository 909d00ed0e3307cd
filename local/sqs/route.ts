/**
 * The SQS API as a gateway route, in both protocols SQS serves (Amazon SQS Developer Guide,
 * "Amazon SQS AWS JSON protocol" and "Making query API requests"): AWS JSON 1.0 with
 * `X-Amz-Target: AmazonSQS.<Operation>`, and the query protocol with `Action=<Operation>` as
 * form fields or query string, answered in XML (query-protocol.ts). Both run the same
 * operations below, each following its page in the Amazon SQS API Reference. Errors are
 * thrown as SqsError; the gateway renders them in the request's protocol, with the
 * `com.amazonaws.sqs` namespace and the legacy query code (JSON), or as an XML ErrorResponse
 * whose Code is the legacy query code (query).
 */
import { randomUUID } from 'node:crypto';
import { AwsServiceError, errorText } from '../common';
import { type AwsRequest, type ServiceRoute, type XmlElements, xmlDocument } from '../gateway';
import { intParam, type SqsBackend } from './backend';
import {
  batchIdsNotDistinct,
  batchRequestTooLong,
  emptyBatch,
  invalidAction,
  invalidBatchEntryId,
  invalidParameter,
  missingAction,
  missingParameter,
  queueDoesNotExist,
  tooManyEntries,
  unsupportedOperation,
} from './errors';
import { md5OfSelected, selectMessageAttributes, systemAttributes } from './messages';
import {
  decodeQueryRequest,
  encodeQueryResponse,
  QUERY_OPERATIONS,
  SQS_XML_NAMESPACE,
} from './query-protocol';
import type { StoredMessage } from './types';

type Input = Record<string, unknown>;
type Operation = (input: Input, req: AwsRequest) => Promise<object> | object;

const BATCH_ENTRY_ID = /^[A-Za-z0-9_-]{1,80}$/;
const JSON_TARGET_PREFIX = 'AmazonSQS.';

const isJsonRequest = (req: AwsRequest) => req.target?.startsWith(JSON_TARGET_PREFIX) === true;

/** Query parameters: the URL's, then form fields of a POST body (which win). */
function queryParams(req: AwsRequest): URLSearchParams {
  const params = new URLSearchParams(req.query);
  const type = req.headers['content-type'] ?? '';
  if (req.body.length > 0 && (type === '' || type.includes('application/x-www-form-urlencoded'))) {
    for (const [k, v] of new URLSearchParams(req.body.toString('utf8'))) params.set(k, v);
  }
  return params;
}

/** An unsigned request that names an SQS operation in `Action` (e.g. from curl). */
function namesSqsAction(req: AwsRequest): boolean {
  if (req.signingService !== undefined || req.target !== undefined) return false;
  const action = req.query.get('Action');
  if (action !== null) return QUERY_OPERATIONS.has(action);
  const type = req.headers['content-type'] ?? '';
  if (!type.includes('application/x-www-form-urlencoded')) return false;
  return QUERY_OPERATIONS.has(new URLSearchParams(req.body.toString('utf8')).get('Action') ?? '');
}

export function createSqsRoute(backend: SqsBackend): ServiceRoute {
  const ops = operations(backend);
  // Own keys only: `constructor` or `toString` are not operations.
  const operation = (name: string) => (Object.hasOwn(ops, name) ? ops[name] : undefined);

  async function handleJson(req: AwsRequest) {
    const op = req.target!.slice(JSON_TARGET_PREFIX.length);
    const handler = operation(op);
    if (!handler) throw unsupportedOperation(op);
    let input: Input;
    try {
      const text = req.body.toString('utf8');
      input = text.trim() === '' ? {} : (JSON.parse(text) as Input);
    } catch {
      throw invalidParameter('The request body is not valid JSON.');
    }
    if (input === null || typeof input !== 'object' || Array.isArray(input)) {
      throw invalidParameter('The request body must be a JSON object.');
    }
    const body = await handler(input, req);
    return { status: 200, headers: { 'content-type': 'application/x-amz-json-1.0' }, body };
  }

  async function handleQuery(req: AwsRequest) {
    const params = queryParams(req);
    const action = params.get('Action');
    if (!action) throw missingAction();
    const decoded = decodeQueryRequest(params);
    if (!decoded) throw invalidAction(action);
    const handler = operation(decoded.action);
    if (!handler) throw unsupportedOperation(decoded.action);
    // A request sent to the queue URL itself names the queue by its path.
    if (decoded.input.QueueUrl === undefined && /^\/[^/]+\/[^/]+\/?$/.test(req.path)) {
      decoded.input.QueueUrl = `http://${req.headers.host ?? 'localhost'}${req.path.replace(/\/$/, '')}`;
    }
    const output = await handler(decoded.input, req);
    const requestId = randomUUID();
    const { root, content } = encodeQueryResponse(decoded.action, output, requestId);
    return {
      status: 200,
      headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
      body: xmlDocument(root, content as XmlElements, SQS_XML_NAMESPACE),
    };
  }

  return {
    name: 'sqs',
    protocol: 'json-1.0',
    protocolOf: (req) => (isJsonRequest(req) ? 'json-1.0' : 'query'),
    internalErrorCode: 'InternalError',
    errorNamespace: 'com.amazonaws.sqs',
    xmlNamespace: SQS_XML_NAMESPACE,
    matches: (req) => isJsonRequest(req) || req.signingService === 'sqs' || namesSqsAction(req),
    handle: (req) => (isJsonRequest(req) ? handleJson(req) : handleQuery(req)),
  };
}

function operations(b: SqsBackend): Record<string, Operation> {
  const queue = (input: Input) => b.resolve(input.QueueUrl);
  const sender = (req: AwsRequest) => req.accessKeyId ?? b.identity.accountId;

  return {
    CreateQueue: (input) => {
      const attrs = (input.Attributes ?? {}) as Record<string, unknown>;
      const q = b.createQueue(input.QueueName, attrs);
      return { QueueUrl: b.urlOf(q.name) };
    },
    GetQueueUrl: (input) => {
      if (
        input.QueueOwnerAWSAccountId !== undefined &&
        input.QueueOwnerAWSAccountId !== b.identity.accountId
      ) {
        throw queueDoesNotExist(String(input.QueueName));
      }
      if (typeof input.QueueName !== 'string') throw missingParameter('QueueName');
      const q = b.resolve(input.QueueName);
      return { QueueUrl: b.urlOf(q.name) };
    },
    ListQueues: (input) => {
      const prefix = typeof input.QueueNamePrefix === 'string' ? input.QueueNamePrefix : '';
      const { page, nextToken } = pageOf(b.list(prefix), input);
      return {
        ...(page.length > 0 ? { QueueUrls: page.map((q) => b.urlOf(q.name)) } : {}),
        ...(nextToken ? { NextToken: nextToken } : {}),
      };
    },
    ListDeadLetterSourceQueues: (input) => {
      const target = queue(input).arn;
      const sources = b.list().filter((q) => q.redrivePolicy?.deadLetterTargetArn === target);
      const { page, nextToken } = pageOf(sources, input);
      return { queueUrls: page.map((q) => b.urlOf(q.name)), ...(nextToken ? { NextToken: nextToken } : {}) };
    },
    DeleteQueue: async (input) => {
      await b.deleteQueue(queue(input));
      return {};
    },
    GetQueueAttributes: (input) => {
      const q = queue(input);
      const names = Array.isArray(input.AttributeNames) ? (input.AttributeNames as string[]) : [];
      const attributes = b.getAttributes(q, names);
      return Object.keys(attributes).length > 0 ? { Attributes: attributes } : {};
    },
    SetQueueAttributes: (input) => {
      b.setAttributes(queue(input), (input.Attributes ?? {}) as Record<string, unknown>);
      return {};
    },
    PurgeQueue: async (input) => {
      await queue(input).purge();
      return {};
    },
    SendMessage: async (input, req) => {
      const q = queue(input);
      const m = b.buildMessage(q, {
        body: input.MessageBody,
        attributes: input.MessageAttributes,
        systemAttributes: input.MessageSystemAttributes,
        delaySeconds: input.DelaySeconds,
        senderId: sender(req),
      });
      await b.accept(q, [m]);
      return sendResult(m);
    },
    SendMessageBatch: async (input, req) => {
      const q = queue(input);
      const entries = batchEntries(input);
      const size = entries.reduce((n, e) => n + Buffer.byteLength(String(e.MessageBody ?? '')), 0);
      if (size > 262_144) throw batchRequestTooLong(size, 262_144);
      const Successful: object[] = [];
      const Failed: object[] = [];
      const accepted: StoredMessage[] = [];
      for (const e of entries) {
        try {
          const m = b.buildMessage(q, {
            body: e.MessageBody,
            attributes: e.MessageAttributes,
            systemAttributes: e.MessageSystemAttributes,
            delaySeconds: e.DelaySeconds,
            senderId: sender(req),
          });
          accepted.push(m);
          Successful.push({ Id: e.Id, ...sendResult(m) });
        } catch (err) {
          Failed.push(batchFailure(e.Id, err));
        }
      }
      // One fsync for the whole batch; every entry reported Successful is durable.
      if (accepted.length > 0) await b.accept(q, accepted);
      return { Successful, Failed };
    },
    ReceiveMessage: async (input) => {
      const q = queue(input);
      const received = await b.receive(q, {
        max: input.MaxNumberOfMessages,
        visibility: input.VisibilityTimeout,
        wait: input.WaitTimeSeconds,
      });
      const requestedSystem = [
        ...(Array.isArray(input.AttributeNames) ? (input.AttributeNames as string[]) : []),
        ...(Array.isArray(input.MessageSystemAttributeNames)
          ? (input.MessageSystemAttributeNames as string[])
          : []),
      ];
      const requestedAttrs = Array.isArray(input.MessageAttributeNames)
        ? (input.MessageAttributeNames as string[])
        : [];
      if (received.length === 0) return {};
      return {
        Messages: received.map(({ message: m, receiptHandle }) => {
          const attrs = systemAttributes(m, requestedSystem);
          const messageAttributes = selectMessageAttributes(m.attributes, requestedAttrs);
          return {
            MessageId: m.id,
            ReceiptHandle: receiptHandle,
            MD5OfBody: m.md5,
            Body: m.body,
            ...(attrs ? { Attributes: attrs } : {}),
            ...(messageAttributes
              ? {
                  MessageAttributes: messageAttributes,
                  MD5OfMessageAttributes: md5OfSelected(messageAttributes),
                }
              : {}),
          };
        }),
      };
    },
    DeleteMessage: (input) => {
      const q = queue(input);
      q.delete(receiptHandle(input));
      return {};
    },
    DeleteMessageBatch: (input) => {
      const q = queue(input);
      return perEntry(batchEntries(input), (e) => q.delete(receiptHandle(e)));
    },
    ChangeMessageVisibility: (input) => {
      const q = queue(input);
      q.changeVisibility(
        receiptHandle(input),
        intParam('VisibilityTimeout', input.VisibilityTimeout, 0, 43_200, 0),
      );
      return {};
    },
    ChangeMessageVisibilityBatch: (input) => {
      const q = queue(input);
      return perEntry(batchEntries(input), (e) =>
        q.changeVisibility(
          receiptHandle(e),
          intParam('VisibilityTimeout', e.VisibilityTimeout, 0, 43_200, 0),
        ),
      );
    },
  };
}

/**
 * One page of a queue listing (ListQueues, ListDeadLetterSourceQueues): MaxResults 1-1000;
 * without it every queue, with no NextToken, as SQS does. The token names the last queue
 * of the page; the next page starts after it in the same (name) order.
 */
function pageOf<Q extends { readonly name: string }>(
  queues: readonly Q[],
  input: Input,
): { page: Q[]; nextToken?: string } {
  const max =
    input.MaxResults === undefined ? undefined : intParam('MaxResults', input.MaxResults, 1, 1000, 1000);
  let start = 0;
  if (typeof input.NextToken === 'string' && input.NextToken !== '') {
    const after = Buffer.from(input.NextToken, 'base64url').toString();
    const at = queues.findIndex((q) => q.name === after);
    start = at >= 0 ? at + 1 : queues.findIndex((q) => q.name.localeCompare(after) > 0);
    if (start < 0) start = queues.length;
  }
  const rest = queues.slice(start);
  const page = rest.slice(0, max ?? 1000);
  const more = max !== undefined && rest.length > page.length;
  return more ? { page, nextToken: Buffer.from(page.at(-1)!.name).toString('base64url') } : { page };
}

function sendResult(m: StoredMessage): object {
  return {
    MessageId: m.id,
    MD5OfMessageBody: m.md5,
    ...(m.md5Attributes ? { MD5OfMessageAttributes: m.md5Attributes } : {}),
    ...(m.md5System ? { MD5OfMessageSystemAttributes: m.md5System } : {}),
  };
}

function receiptHandle(input: Input): string {
  if (typeof input.ReceiptHandle !== 'string' || input.ReceiptHandle === '')
    throw missingParameter('ReceiptHandle');
  return input.ReceiptHandle;
}

/** Batch request checks shared by the *Batch operations (1-10 entries, distinct valid Ids). */
function batchEntries(input: Input): Array<Input & { Id: string }> {
  const entries = input.Entries;
  if (!Array.isArray(entries) || entries.length === 0) throw emptyBatch();
  if (entries.length > 10) throw tooManyEntries(entries.length);
  const seen = new Set<string>();
  for (const e of entries as Input[]) {
    const id = e?.Id;
    if (typeof id !== 'string' || !BATCH_ENTRY_ID.test(id)) throw invalidBatchEntryId(String(id));
    if (seen.has(id)) throw batchIdsNotDistinct(id);
    seen.add(id);
  }
  return entries as Array<Input & { Id: string }>;
}

function perEntry(entries: Array<Input & { Id: string }>, run: (e: Input) => void): object {
  const Successful: object[] = [];
  const Failed: object[] = [];
  for (const e of entries) {
    try {
      run(e);
      Successful.push({ Id: e.Id });
    } catch (err) {
      Failed.push(batchFailure(e.Id, err));
    }
  }
  return { Successful, Failed };
}

function batchFailure(id: string, err: unknown): object {
  if (err instanceof AwsServiceError) {
    const code = 'queryCode' in err ? String(err.queryCode) : err.code;
    return { Id: id, SenderFault: err.status < 500, Code: code, Message: err.message };
  }
  return { Id: id, SenderFault: false, Code: 'InternalError', Message: errorText(err) };
}
