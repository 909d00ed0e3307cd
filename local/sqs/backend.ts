import { arn, type CloudIdentity, isStorageFailure, type LocalLogger } from '../common';
import {
  COMPUTED_ATTRIBUTES,
  DEFAULT_ATTRIBUTES,
  intAttribute,
  SETTABLE_ATTRIBUTES,
  validateAttributes,
} from './attributes';
import {
  invalidAttributeName,
  invalidParameter,
  queueAlreadyExists,
  queueDoesNotExist,
  serviceUnavailable,
} from './errors';
import { md5OfAttributes, md5OfBody } from './md5';
import { messageSize, validateBody, validateMessageAttributes } from './messages';
import { newMessageId, Queue } from './queue';
import { QueueLog, type QueueRecord, QueueRecords, queueLogPath } from './store';
import type { MessageAttributes, ReceivedMessage, StoredMessage } from './types';

export interface NewMessage {
  readonly body: unknown;
  readonly attributes?: unknown;
  readonly systemAttributes?: unknown;
  readonly delaySeconds?: unknown;
  readonly senderId: string;
}

const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}$/;

/**
 * The queues and their state, independent of the wire protocol: the API layer and the
 * in-process callers (rules engine, Lambda destinations, event source mappings) share it.
 */
export class SqsBackend {
  private readonly queues = new Map<string, Queue>();
  private readonly records: QueueRecords;

  constructor(
    private readonly dir: string,
    readonly identity: CloudIdentity,
    readonly logger: LocalLogger,
    readonly endpoint: () => string,
    readonly now: () => number,
  ) {
    this.records = new QueueRecords(dir, logger);
  }

  /** Opens every queue recorded in the state directory. */
  load(): void {
    for (const [name, rec] of this.records.all()) {
      const q = this.openQueue(name, rec, true);
      const c = q.counts();
      this.logger.info(`queue ${name} restored with ${c.visible + c.inFlight + c.delayed} messages`);
    }
  }

  private openQueue(name: string, rec: QueueRecord, restored = false): Queue {
    const { log, loaded } = QueueLog.open(queueLogPath(this.dir, name), name, this.logger, restored);
    const q = new Queue(
      name,
      this.arnOf(name),
      rec.attributes,
      rec.createdAt,
      rec.lastModifiedAt,
      log,
      { now: this.now, logger: this.logger, queueByArn: (a) => this.byArn(a) },
      loaded.messages,
    );
    this.queues.set(name, q);
    return q;
  }

  urlOf(name: string): string {
    return `${this.endpoint().replace(/\/+$/, '')}/${this.identity.accountId}/${name}`;
  }

  arnOf(name: string): string {
    return arn(this.identity, 'sqs', name);
  }

  private byArn(queueArn: string): Queue | undefined {
    const m = /^arn:aws[\w-]*:sqs:([^:]*):([^:]*):(.+)$/.exec(queueArn);
    if (!m || m[2] !== this.identity.accountId) return undefined;
    return this.queues.get(m[3]!);
  }

  /** Finds a queue by URL (any host; `/<account>/<name>`), ARN or bare name. */
  resolve(ref: unknown): Queue {
    if (typeof ref !== 'string' || ref === '')
      throw invalidParameter('The request must contain the parameter QueueUrl.');
    let q: Queue | undefined;
    if (ref.startsWith('arn:')) q = this.byArn(ref);
    else if (/^https?:\/\//.test(ref)) {
      let path: string;
      try {
        path = new URL(ref).pathname;
      } catch {
        throw invalidParameter(`Value ${ref} for parameter QueueUrl is invalid. Reason: not a URL.`);
      }
      const parts = path.split('/').filter(Boolean);
      const name = parts.at(-1);
      const account = parts.at(-2);
      if (name && (account === undefined || account === this.identity.accountId)) q = this.queues.get(name);
    } else q = this.queues.get(ref);
    if (!q) throw queueDoesNotExist(ref);
    return q;
  }

  list(prefix = ''): Queue[] {
    return [...this.queues.values()]
      .filter((q) => q.name.startsWith(prefix))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** CreateQueue: idempotent when the given attributes match the existing queue's. */
  createQueue(name: unknown, rawAttributes: Record<string, unknown> = {}): Queue {
    if (typeof name !== 'string' || !QUEUE_NAME.test(name)) {
      throw invalidParameter(
        `Value ${String(name)} for parameter QueueName is invalid. Reason: Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length. FIFO queues are not emulated.`,
      );
    }
    const attributes = validateAttributes(rawAttributes);
    const existing = this.queues.get(name);
    if (existing) {
      for (const [k, v] of Object.entries(attributes)) {
        if ((existing.attributes[k] ?? DEFAULT_ATTRIBUTES[k] ?? '') !== v) throw queueAlreadyExists(name, k);
      }
      return existing;
    }
    const now = this.now();
    const rec: QueueRecord = {
      attributes: { ...DEFAULT_ATTRIBUTES, ...attributes },
      createdAt: now,
      lastModifiedAt: now,
    };
    this.records.put(name, rec);
    this.logger.info(`queue ${name} created`);
    return this.openQueue(name, rec);
  }

  setAttributes(q: Queue, rawAttributes: Record<string, unknown>): void {
    const attributes = validateAttributes(rawAttributes);
    const merged = { ...q.attributes, ...attributes };
    if (merged.RedrivePolicy === '') delete merged.RedrivePolicy;
    q.attributes = merged;
    q.lastModifiedAt = this.now();
    this.records.put(q.name, {
      attributes: merged,
      createdAt: q.createdAt,
      lastModifiedAt: q.lastModifiedAt,
    });
  }

  getAttributes(q: Queue, names: readonly string[]): Record<string, string> {
    const known = new Set<string>(['All', ...SETTABLE_ATTRIBUTES, ...COMPUTED_ATTRIBUTES]);
    for (const n of names) if (!known.has(n)) throw invalidAttributeName(n);
    const c = q.counts();
    const all: Record<string, string> = {
      ...q.attributes,
      ApproximateNumberOfMessages: String(c.visible),
      ApproximateNumberOfMessagesNotVisible: String(c.inFlight),
      ApproximateNumberOfMessagesDelayed: String(c.delayed),
      CreatedTimestamp: String(Math.floor(q.createdAt / 1000)),
      LastModifiedTimestamp: String(Math.floor(q.lastModifiedAt / 1000)),
      QueueArn: q.arn,
    };
    if (names.includes('All')) return all;
    const out: Record<string, string> = {};
    for (const n of names) if (all[n] !== undefined) out[n] = all[n];
    return out;
  }

  async deleteQueue(q: Queue): Promise<void> {
    this.queues.delete(q.name);
    this.records.remove(q.name);
    await q.destroy();
    this.logger.info(`queue ${q.name} deleted`);
  }

  /**
   * Accepts messages into a queue; resolves once they are on disk. A disk that refuses them
   * becomes ServiceUnavailable (503), which callers and SDKs retry.
   */
  async accept(q: Queue, messages: readonly StoredMessage[]): Promise<void> {
    try {
      await q.accept(messages);
    } catch (err) {
      if (isStorageFailure(err)) {
        // The cause stays attached, so an in-process caller (the rules engine) still sees a full
        // disk, which it holds and retries, rather than an action failure.
        throw Object.assign(serviceUnavailable((err as Error).message), { cause: err });
      }
      throw err;
    }
  }

  /** Validates and builds a message for `q`; throws an AWS-shaped error if it is invalid. */
  buildMessage(q: Queue, input: NewMessage): StoredMessage {
    const body = validateBody(input.body);
    const attributes = validateMessageAttributes(input.attributes);
    const system = validateSystemAttributes(input.systemAttributes);
    const limit = intAttribute(q.attributes, 'MaximumMessageSize');
    const size = messageSize(body, attributes);
    if (size > limit) {
      throw invalidParameter(
        `One or more parameters are invalid. Reason: Message must be shorter than ${limit} bytes (it is ${size}).`,
      );
    }
    let delay = intAttribute(q.attributes, 'DelaySeconds');
    if (input.delaySeconds !== undefined && input.delaySeconds !== null) {
      const d = Number(input.delaySeconds);
      if (!Number.isInteger(d) || d < 0 || d > 900) {
        throw invalidParameter(
          `Value ${String(input.delaySeconds)} for parameter DelaySeconds is invalid. Reason: must be between 0 and 900 seconds.`,
        );
      }
      delay = d;
    }
    const now = this.now();
    return {
      id: newMessageId(),
      body,
      md5: md5OfBody(body),
      ...(attributes ? { attributes, md5Attributes: md5OfAttributes(attributes) } : {}),
      ...(system ? { system, md5System: md5OfAttributes(system) } : {}),
      sentAt: now,
      senderId: input.senderId,
      delayUntil: now + delay * 1000,
      receiveCount: 0,
    };
  }

  async receive(
    q: Queue,
    options: { max?: unknown; visibility?: unknown; wait?: unknown; signal?: AbortSignal },
  ): Promise<ReceivedMessage[]> {
    const max = intParam('MaxNumberOfMessages', options.max, 1, 10, 1);
    const visibility = intParam(
      'VisibilityTimeout',
      options.visibility,
      0,
      43_200,
      intAttribute(q.attributes, 'VisibilityTimeout'),
    );
    const wait = intParam(
      'WaitTimeSeconds',
      options.wait,
      0,
      20,
      intAttribute(q.attributes, 'ReceiveMessageWaitTimeSeconds'),
    );
    return q.receive(max, visibility, wait, options.signal);
  }

  async close(): Promise<void> {
    const closing = [...this.queues.values()].map((q) => q.close());
    this.queues.clear();
    await Promise.all(closing);
  }
}

export function intParam(name: string, value: unknown, min: number, max: number, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw invalidParameter(
      `Value ${String(value)} for parameter ${name} is invalid. Reason: Must be between ${min} and ${max}, if provided.`,
    );
  }
  return n;
}

function validateSystemAttributes(raw: unknown): MessageAttributes | undefined {
  if (raw === undefined || raw === null) return undefined;
  const attrs = validateMessageAttributes(raw, 'MessageSystemAttribute');
  for (const name of Object.keys(attrs ?? {})) {
    if (name !== 'AWSTraceHeader')
      throw invalidParameter(`Message system attribute name '${name}' is invalid.`);
  }
  return attrs;
}
