/**
 * The SQS query protocol, beside AWS JSON 1.0: what the AWS CLI v1, AWS CLI v2 up to 2.12
 * (Debian and Ubuntu ship 2.9), botocore before the SQS JSON move, the AWS SDK for Java v1 and
 * plain `curl` scripts speak. A request is `Action=<Operation>&Version=2012-11-05&...` as form
 * fields (POST) or query string (GET), sent to the endpoint or to the queue URL itself; the
 * answer is `<OperationResponse><OperationResult>...</OperationResult><ResponseMetadata>
 * <RequestId>...</RequestId></ResponseMetadata></OperationResponse>`.
 *
 * Follows: Amazon SQS Developer Guide, "Making query API requests" and "Interpreting Amazon SQS
 * XML API responses"; Amazon SQS API Reference, each operation's request parameters
 * (`Attribute.N.Name`, `MessageAttribute.N.Value.DataType`, `SendMessageBatchRequestEntry.N.Id`,
 * ...) and its response elements. Lists and maps are "flattened": the member element repeats
 * with no wrapper (`<QueueUrl>` once per queue, `<Attribute><Name/><Value/></Attribute>` once
 * per attribute).
 *
 * This module only translates: a query request becomes the same input object the JSON
 * protocol carries, the operations in route.ts run unchanged, and their JSON-shaped output is
 * written back as XML.
 *
 * LIMITATIONS versus AWS: the `Version` parameter is not checked; request signatures are not
 * verified (as for every local API); numbered parameters may skip numbers (AWS requires them
 * to start at 1 and run without gaps).
 */
import { invalidParameter } from './errors';

type Input = Record<string, unknown>;

/** How a member that is not a plain scalar travels: a flattened list or map, or a structure. */
type Member =
  | { readonly list: string; readonly of?: Shape }
  | { readonly map: string; readonly key: string; readonly value: string; readonly of?: Shape }
  | { readonly struct: Shape };

/** The non-scalar members of a structure, by their JSON name. */
type Shape = Readonly<Record<string, Member>>;

const list = (wire: string, of?: Shape): Member => (of ? { list: wire, of } : { list: wire });
const map = (wire: string, key: string, value: string, of?: Shape): Member =>
  of ? { map: wire, key, value, of } : { map: wire, key, value };

const MESSAGE_ATTRIBUTE_VALUE: Shape = {
  StringListValues: list('StringListValue'),
  BinaryListValues: list('BinaryListValue'),
};
const MESSAGE_ATTRIBUTES = map('MessageAttribute', 'Name', 'Value', MESSAGE_ATTRIBUTE_VALUE);
const MESSAGE_SYSTEM_ATTRIBUTES = map('MessageSystemAttribute', 'Name', 'Value', MESSAGE_ATTRIBUTE_VALUE);
const QUEUE_ATTRIBUTES = map('Attribute', 'Name', 'Value');
const TAGS = map('Tag', 'Key', 'Value');
const BATCH_ERROR = list('BatchResultErrorEntry', {});

/** Request parameters of each operation (Amazon SQS API Reference, "Request Parameters"). */
const REQUESTS: Readonly<Record<string, Shape>> = {
  CreateQueue: { Attributes: QUEUE_ATTRIBUTES, tags: TAGS },
  GetQueueUrl: {},
  ListQueues: {},
  DeleteQueue: {},
  GetQueueAttributes: { AttributeNames: list('AttributeName') },
  SetQueueAttributes: { Attributes: QUEUE_ATTRIBUTES },
  PurgeQueue: {},
  SendMessage: { MessageAttributes: MESSAGE_ATTRIBUTES, MessageSystemAttributes: MESSAGE_SYSTEM_ATTRIBUTES },
  SendMessageBatch: {
    Entries: list('SendMessageBatchRequestEntry', {
      MessageAttributes: MESSAGE_ATTRIBUTES,
      MessageSystemAttributes: MESSAGE_SYSTEM_ATTRIBUTES,
    }),
  },
  ReceiveMessage: {
    AttributeNames: list('AttributeName'),
    MessageSystemAttributeNames: list('MessageSystemAttributeName'),
    MessageAttributeNames: list('MessageAttributeName'),
  },
  DeleteMessage: {},
  DeleteMessageBatch: { Entries: list('DeleteMessageBatchRequestEntry', {}) },
  ChangeMessageVisibility: {},
  ChangeMessageVisibilityBatch: { Entries: list('ChangeMessageVisibilityBatchRequestEntry', {}) },
  ListDeadLetterSourceQueues: {},
  ListQueueTags: {},
  TagQueue: { Tags: TAGS },
  UntagQueue: { TagKeys: list('TagKey') },
  AddPermission: { AWSAccountIds: list('AWSAccountId'), Actions: list('ActionName') },
  RemovePermission: {},
};

/**
 * Response elements of the operations that return something (Amazon SQS API Reference,
 * "Response Elements"); the others answer with ResponseMetadata only.
 */
const RESULTS: Readonly<Record<string, Shape>> = {
  CreateQueue: {},
  GetQueueUrl: {},
  ListQueues: { QueueUrls: list('QueueUrl') },
  ListDeadLetterSourceQueues: { queueUrls: list('QueueUrl') },
  GetQueueAttributes: { Attributes: QUEUE_ATTRIBUTES },
  ListQueueTags: { Tags: TAGS },
  SendMessage: {},
  SendMessageBatch: { Successful: list('SendMessageBatchResultEntry', {}), Failed: BATCH_ERROR },
  ReceiveMessage: {
    Messages: list('Message', { Attributes: QUEUE_ATTRIBUTES, MessageAttributes: MESSAGE_ATTRIBUTES }),
  },
  DeleteMessageBatch: { Successful: list('DeleteMessageBatchResultEntry', {}), Failed: BATCH_ERROR },
  ChangeMessageVisibilityBatch: {
    Successful: list('ChangeMessageVisibilityBatchResultEntry', {}),
    Failed: BATCH_ERROR,
  },
};

/** Every operation name the query protocol knows, served or not. */
export const QUERY_OPERATIONS: ReadonlySet<string> = new Set(Object.keys(REQUESTS));

/** The SQS XML namespace AWS puts on every response. */
export const SQS_XML_NAMESPACE = 'http://queue.amazonaws.com/doc/2012-11-05/';

/** The nested form of dotted parameter names: `A.1.B=x` becomes `{A: {1: {B: 'x'}}}`. */
interface ParamTree {
  value?: string;
  readonly children: Map<string, ParamTree>;
}

function paramTree(params: URLSearchParams): ParamTree {
  const root: ParamTree = { children: new Map() };
  for (const [name, value] of params) {
    let node = root;
    for (const part of name.split('.')) {
      let next = node.children.get(part);
      if (!next) {
        next = { children: new Map() };
        node.children.set(part, next);
      }
      node = next;
    }
    node.value = value;
  }
  return root;
}

/** The numbered children of a flattened member (`Wire.1`, `Wire.2`, ...), in number order. */
function numbered(node: ParamTree | undefined, where: string): ParamTree[] {
  if (!node) return [];
  const items: Array<[number, ParamTree]> = [];
  for (const [index, child] of node.children) {
    const n = Number(index);
    if (!/^[1-9]\d*$/.test(index) || !Number.isSafeInteger(n)) {
      throw invalidParameter(
        `Parameter ${where}.${index} is invalid: ${where} takes numbered members (${where}.1, ${where}.2, ...).`,
      );
    }
    items.push([n, child]);
  }
  return items.sort((a, b) => a[0] - b[0]).map(([, child]) => child);
}

function decodeStructure(node: ParamTree, shape: Shape, where: string): Input {
  const out: Input = {};
  const wireNames = new Map<string, [string, Member]>();
  for (const [name, member] of Object.entries(shape)) {
    wireNames.set('list' in member ? member.list : 'map' in member ? member.map : name, [name, member]);
  }
  for (const [name, child] of node.children) {
    const known = wireNames.get(name);
    const path = where ? `${where}.${name}` : name;
    if (!known) {
      if (child.value !== undefined) out[name] = child.value;
      continue;
    }
    const [jsonName, member] = known;
    out[jsonName] = decodeMember(child, member, path);
  }
  return out;
}

function decodeMember(node: ParamTree, member: Member, where: string): unknown {
  if ('struct' in member) return decodeStructure(node, member.struct, where);
  if ('list' in member) {
    return numbered(node, where).map((item, i) =>
      member.of ? decodeStructure(item, member.of, `${where}.${i + 1}`) : (item.value ?? ''),
    );
  }
  const out: Record<string, unknown> = {};
  for (const [i, entry] of numbered(node, where).entries()) {
    const key = entry.children.get(member.key)?.value;
    const value = entry.children.get(member.value);
    if (key === undefined) throw invalidParameter(`Parameter ${where}.${i + 1}.${member.key} is required.`);
    out[key] = member.of
      ? decodeStructure(value ?? { children: new Map() }, member.of, '')
      : (value?.value ?? '');
  }
  return out;
}

/**
 * The operation and its input, as the JSON protocol would carry it, from query parameters.
 * Returns undefined for an action this protocol does not know.
 */
export function decodeQueryRequest(params: URLSearchParams): { action: string; input: Input } | undefined {
  const action = params.get('Action') ?? '';
  // Own members only: an Action such as `constructor` or `__proto__` is unknown, not Object's.
  const shape = Object.hasOwn(REQUESTS, action) ? REQUESTS[action] : undefined;
  if (!shape) return undefined;
  const rest = new URLSearchParams(params);
  rest.delete('Action');
  rest.delete('Version');
  return { action, input: decodeStructure(paramTree(rest), shape, '') };
}

/** XML elements for a JSON value of the given member shape. */
function encodeStructure(value: Record<string, unknown>, shape: Shape): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, v] of Object.entries(value)) {
    if (v === undefined || v === null) continue;
    const member = shape[name];
    if (!member) {
      out[name] = typeof v === 'object' ? encodeStructure(v as Record<string, unknown>, {}) : String(v);
      continue;
    }
    if ('struct' in member) out[name] = encodeStructure(v as Record<string, unknown>, member.struct);
    else if ('list' in member) {
      const items = (v as unknown[]).map((item) =>
        member.of ? encodeStructure(item as Record<string, unknown>, member.of) : String(item),
      );
      if (items.length > 0) out[member.list] = items;
    } else {
      const entries = Object.entries(v as Record<string, unknown>).map(([key, item]) => ({
        [member.key]: key,
        [member.value]: member.of
          ? encodeStructure(item as Record<string, unknown>, member.of)
          : String(item),
      }));
      if (entries.length > 0) out[member.map] = entries;
    }
  }
  return out;
}

/**
 * The `<Operation>Response` document for an operation's JSON-shaped output: a
 * `<Operation>Result` for operations that return something (empty when there is nothing to
 * report, as for a receive that found no message), then ResponseMetadata.
 */
export function encodeQueryResponse(
  action: string,
  output: object,
  requestId: string,
): { root: string; content: Record<string, unknown> } {
  const shape = Object.hasOwn(RESULTS, action) ? RESULTS[action] : undefined;
  return {
    root: `${action}Response`,
    content: {
      ...(shape ? { [`${action}Result`]: encodeStructure(output as Record<string, unknown>, shape) } : {}),
      ResponseMetadata: { RequestId: requestId },
    },
  };
}
