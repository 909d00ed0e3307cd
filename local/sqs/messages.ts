import { invalidMessageContents, invalidParameter } from './errors';
import { md5OfAttributes } from './md5';
import type { MessageAttributes, MessageAttributeValue, StoredMessage } from './types';

/**
 * Message validation and the message shapes of the SQS API (SQS API Reference,
 * "SendMessage", "MessageAttributeValue", "ReceiveMessage"; Developer Guide, "Amazon SQS
 * message attributes").
 */

// "#x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF"
const INVALID_BODY_CHARS = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const ATTRIBUTE_NAME = /^(?!\.)(?!.*\.\.)(?!.*\.$)[A-Za-z0-9_.-]{1,256}$/;

export function validateBody(body: unknown): string {
  if (typeof body !== 'string' || body.length === 0) {
    throw invalidParameter('The request must contain the parameter MessageBody.');
  }
  if (INVALID_BODY_CHARS.test(body)) {
    throw invalidMessageContents(
      'Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF',
    );
  }
  return body;
}

export function validateMessageAttributes(
  raw: unknown,
  kind = 'MessageAttribute',
): MessageAttributes | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw invalidParameter(`${kind}s must be a map.`);
  const entries = Object.entries(raw as Record<string, unknown>);
  if (entries.length === 0) return undefined;
  if (entries.length > 10) {
    throw invalidParameter(
      `Number of message attributes [${entries.length}] exceeds the allowed maximum [10].`,
    );
  }
  const out: MessageAttributes = {};
  for (const [name, value] of entries) {
    if (!ATTRIBUTE_NAME.test(name) || /^(aws|amazon)\./i.test(name)) {
      throw invalidParameter(`${kind} name '${name}' is invalid.`);
    }
    const v = (value ?? {}) as Record<string, unknown>;
    const type = v.DataType;
    if (typeof type !== 'string' || !/^(String|Number|Binary)(\..{1,255})?$/.test(type)) {
      throw invalidParameter(`The message attribute '${name}' has an invalid message attribute type.`);
    }
    if (v.StringListValues !== undefined || v.BinaryListValues !== undefined) {
      throw invalidParameter(
        `The message attribute '${name}' uses list values, which SQS does not implement.`,
      );
    }
    const attr: MessageAttributeValue = type.startsWith('Binary')
      ? { DataType: type, BinaryValue: requireValue(name, v.BinaryValue) }
      : { DataType: type, StringValue: requireValue(name, v.StringValue) };
    if (
      type.startsWith('Number') &&
      !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(attr.StringValue ?? '')
    ) {
      throw invalidParameter(`Can't cast the value of message attribute '${name}' to a number.`);
    }
    out[name] = attr;
  }
  return out;
}

/** A StringValue, or a BinaryValue (base64 text in the JSON protocol): never empty. */
function requireValue(name: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') {
    throw invalidParameter(
      `The message attribute '${name}' must contain a non-empty message attribute value.`,
    );
  }
  return value;
}

/** Bytes SQS counts against MaximumMessageSize: body plus attribute names, types and values. */
export function messageSize(body: string, attributes?: MessageAttributes): number {
  let n = Buffer.byteLength(body, 'utf8');
  for (const [name, v] of Object.entries(attributes ?? {})) {
    n += Buffer.byteLength(name) + Buffer.byteLength(v.DataType);
    n +=
      v.BinaryValue !== undefined
        ? Buffer.from(v.BinaryValue, 'base64').length
        : Buffer.byteLength(v.StringValue ?? '');
  }
  return n;
}

/** Names ReceiveMessage accepts for system attributes (AttributeNames / MessageSystemAttributeNames). */
const SYSTEM_ATTRIBUTE_NAMES = [
  'ApproximateFirstReceiveTimestamp',
  'ApproximateReceiveCount',
  'AWSTraceHeader',
  'DeadLetterQueueSourceArn',
  'SenderId',
  'SentTimestamp',
] as const;

export function systemAttributes(
  m: StoredMessage,
  requested: readonly string[],
): Record<string, string> | undefined {
  if (requested.length === 0) return undefined;
  const all = requested.includes('All');
  const values: Record<string, string | undefined> = {
    ApproximateFirstReceiveTimestamp: String(m.firstReceiveAt ?? m.sentAt),
    ApproximateReceiveCount: String(m.receiveCount),
    AWSTraceHeader: m.system?.AWSTraceHeader?.StringValue,
    DeadLetterQueueSourceArn: m.deadLetterSourceArn,
    SenderId: m.senderId,
    SentTimestamp: String(m.sentAt),
  };
  const out: Record<string, string> = {};
  for (const name of SYSTEM_ATTRIBUTE_NAMES) {
    const v = values[name];
    if (v !== undefined && (all || requested.includes(name))) out[name] = v;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Message attributes selected by MessageAttributeNames: `All`, `.*`, exact names or `prefix.*`. */
export function selectMessageAttributes(
  attributes: MessageAttributes | undefined,
  requested: readonly string[],
): MessageAttributes | undefined {
  if (!attributes || requested.length === 0) return undefined;
  const out: MessageAttributes = {};
  for (const [name, v] of Object.entries(attributes)) {
    const wanted = requested.some(
      (r) => r === 'All' || r === '.*' || r === name || (r.endsWith('.*') && name.startsWith(r.slice(0, -1))),
    );
    if (wanted) out[name] = v;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** The Lambda event source's `messageAttributes` shape (camelCase, list members present). */
export function lambdaMessageAttributes(attributes: MessageAttributes | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, v] of Object.entries(attributes ?? {})) {
    out[name] = {
      ...(v.StringValue !== undefined ? { stringValue: v.StringValue } : {}),
      ...(v.BinaryValue !== undefined ? { binaryValue: v.BinaryValue } : {}),
      stringListValues: [],
      binaryListValues: [],
      dataType: v.DataType,
    };
  }
  return out;
}

export const md5OfSelected = (attributes: MessageAttributes | undefined) =>
  attributes ? md5OfAttributes(attributes) : undefined;
