/**
 * Request parsing and response/error rendering for the AWS protocols the local services speak.
 *
 * Error shapes follow the Smithy AWS protocol specifications ("AWS restJson1 protocol" >
 * "Operation error serialization": status code, `X-Amzn-Errortype` header, `message` in the
 * body; "AWS JSON 1.0/1.1 protocol": `__type` and `message` in the body) and what the clients
 * read: AWS SDK v3 takes rest-json codes from the `x-amzn-errortype` header, then body
 * `code`, then `__type`; JSON-RPC codes from `__type` first; botocore reads the header for
 * rest-json and `__type` for JSON.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { AwsServiceError } from '../common';
import type { AwsProtocol, AwsRequest, AwsResponse } from './types';
import { xmlDocument } from './xml';

export interface RenderedResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

const CONTENT_TYPES: Record<AwsProtocol, string> = {
  'rest-json': 'application/json',
  'json-1.0': 'application/x-amz-json-1.0',
  'json-1.1': 'application/x-amz-json-1.1',
  query: 'text/xml',
};

/** Signing name and access key from `Credential=AKID/date/region/SERVICE/aws4_request` (header or presigned query). */
export function credentialScope(
  authorization: string | undefined,
  query: URLSearchParams,
): { signingService?: string; accessKeyId?: string } {
  const credential =
    /Credential=([^,\s]+)/.exec(authorization ?? '')?.[1] ?? query.get('X-Amz-Credential') ?? '';
  const parts = credential.split('/');
  if (parts.length < 5) return {};
  const [accessKeyId, , , signingService] = parts;
  return { ...(accessKeyId ? { accessKeyId } : {}), ...(signingService ? { signingService } : {}) };
}

function decodePath(rawPath: string): string {
  try {
    return decodeURIComponent(rawPath);
  } catch {
    return rawPath;
  }
}

export function toAwsRequest(req: IncomingMessage, body: Buffer): AwsRequest {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  const scope = credentialScope(headers.authorization, url.searchParams);
  const target = headers['x-amz-target'];
  return {
    method: (req.method ?? 'GET').toUpperCase(),
    path: decodePath(url.pathname),
    rawPath: url.pathname,
    query: url.searchParams,
    headers,
    body,
    ...scope,
    ...(target ? { target } : {}),
  };
}

export function renderResponse(protocol: AwsProtocol, out: AwsResponse, requestId: string): RenderedResponse {
  const headers: Record<string, string> = { 'x-amzn-requestid': requestId, ...lowerKeys(out.headers ?? {}) };
  let body: Buffer;
  if (out.body === undefined) {
    body = Buffer.alloc(0);
    if (protocol !== 'rest-json' && protocol !== 'query') {
      // JSON-RPC responses always carry a JSON document.
      body = Buffer.from('{}');
      headers['content-type'] ??= CONTENT_TYPES[protocol];
    }
  } else if (Buffer.isBuffer(out.body)) {
    body = out.body;
    headers['content-type'] ??= 'application/octet-stream';
  } else if (typeof out.body === 'string') {
    body = Buffer.from(out.body);
    headers['content-type'] ??= CONTENT_TYPES[protocol];
  } else {
    body = Buffer.from(JSON.stringify(out.body));
    headers['content-type'] ??= CONTENT_TYPES[protocol];
  }
  headers['content-length'] = String(body.length);
  return { status: out.status, headers, body };
}

/** How a route qualifies its errors: JSON `__type` namespace, query XML namespace. */
export interface ErrorContext {
  /** JSON protocols: the Smithy namespace of `__type` (SQS: `com.amazonaws.sqs`). */
  readonly namespace?: string;
  /** Query protocol: the `xmlns` of ErrorResponse. */
  readonly xmlNamespace?: string;
}

/**
 * Renders an AwsServiceError so SDK v3 and botocore raise the exception named by `code`.
 * Query protocol (Amazon SQS Developer Guide, "Interpreting Amazon SQS XML API responses"):
 * `ErrorResponse` with `Error{Type, Code, Message, Detail}` and `RequestId`, where Code is the
 * service's legacy query code when it has one (`queryCode`, e.g.
 * `AWS.SimpleQueueService.NonExistentQueue`), the shape name otherwise.
 */
export function renderError(
  protocol: AwsProtocol,
  err: AwsServiceError,
  requestId: string,
  context: ErrorContext = {},
): RenderedResponse {
  const headers: Record<string, string> = {
    'x-amzn-requestid': requestId,
    'x-amzn-errortype': err.code,
  };
  const queryCode = (err as { queryCode?: unknown }).queryCode;
  const fault = err.status >= 500 ? 'Receiver' : 'Sender';
  if (typeof queryCode === 'string') headers['x-amzn-query-error'] = `${queryCode};${fault}`;
  let body: string;
  if (protocol === 'query') {
    headers['content-type'] = 'text/xml';
    const code = typeof queryCode === 'string' ? queryCode : err.code;
    body = xmlDocument(
      'ErrorResponse',
      { Error: { Type: fault, Code: code, Message: err.message, Detail: {} }, RequestId: requestId },
      context.xmlNamespace,
    );
  } else if (protocol === 'rest-json') {
    headers['content-type'] = CONTENT_TYPES[protocol];
    body = JSON.stringify({ ...err.fields, message: err.message });
  } else {
    headers['content-type'] = CONTENT_TYPES[protocol];
    const type = context.namespace ? `${context.namespace}#${err.code}` : err.code;
    body = JSON.stringify({ ...err.fields, __type: type, message: err.message });
  }
  const buf = Buffer.from(body);
  headers['content-length'] = String(buf.length);
  return { status: err.status, headers, body: buf };
}

/** An error for a request no route claimed: readable by both rest-json and JSON-RPC clients. */
export function renderUnrouted(req: AwsRequest, err: AwsServiceError, requestId: string): RenderedResponse {
  const protocol: AwsProtocol = req.target ? 'json-1.1' : 'rest-json';
  const out = renderError(protocol, err, requestId);
  if (protocol === 'rest-json') {
    // Also name the code in the body, for JSON-RPC clients that sent no X-Amz-Target.
    const body = Buffer.from(JSON.stringify({ __type: err.code, message: err.message }));
    return { ...out, body, headers: { ...out.headers, 'content-length': String(body.length) } };
  }
  return out;
}

export const newRequestId = () => randomUUID();

function lowerKeys(h: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) out[k.toLowerCase()] = v;
  return out;
}

/**
 * Parses a JSON request body for a route: an empty body is `{}`, anything that is not a JSON
 * object is a 400 with the given error code (rest-json IoT uses InvalidRequestException, the
 * JSON-RPC services SerializationException).
 */
export function parseJsonObject(body: Buffer, code = 'SerializationException'): Record<string, unknown> {
  if (body.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new AwsServiceError(code, 400, `The request body is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new AwsServiceError(code, 400, 'The request body must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}
