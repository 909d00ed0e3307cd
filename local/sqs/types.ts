import type { CloudIdentity, LocalLogger } from '../common';
import type { ServiceRoute } from '../gateway';

/** A message attribute as the SQS JSON API carries it; BinaryValue is base64. */
export interface MessageAttributeValue {
  readonly DataType: string;
  readonly StringValue?: string;
  readonly BinaryValue?: string;
}

export type MessageAttributes = Record<string, MessageAttributeValue>;

/** A message as the queue keeps it (and as its log stores it). */
export interface StoredMessage {
  readonly id: string;
  readonly body: string;
  readonly md5: string;
  readonly attributes?: MessageAttributes;
  readonly md5Attributes?: string;
  /** Message system attributes (AWSTraceHeader). */
  readonly system?: MessageAttributes;
  readonly md5System?: string;
  readonly sentAt: number;
  readonly senderId: string;
  /** When the message first becomes visible (sentAt + DelaySeconds). */
  readonly delayUntil: number;
  /** Set on messages moved here by a redrive policy. */
  readonly deadLetterSourceArn?: string;
  receiveCount: number;
  firstReceiveAt?: number;
}

/** A message handed to a consumer: the stored message plus the handle of this receive. */
export interface ReceivedMessage {
  readonly message: StoredMessage;
  readonly receiptHandle: string;
}

export interface ReceiveOptions {
  /** 1-10. Default 1. */
  readonly maxMessages?: number;
  /** Seconds; default: the queue's VisibilityTimeout. */
  readonly visibilityTimeout?: number;
  /** Long-poll wait in seconds (0-20); default: the queue's ReceiveMessageWaitTimeSeconds. */
  readonly waitSeconds?: number;
  /** Ends a long poll early (returns what is there, possibly nothing). */
  readonly signal?: AbortSignal;
}

export interface SendOptions {
  readonly attributes?: MessageAttributes;
  readonly delaySeconds?: number;
  readonly traceHeader?: string;
  readonly senderId?: string;
}

export interface RedrivePolicy {
  readonly deadLetterTargetArn: string;
  readonly maxReceiveCount: number;
}

export interface EventSourceMappingConfig {
  readonly queueArn: string;
  readonly functionArn: string;
  /** 1-10000; default 10. */
  readonly batchSize?: number;
  /** 0-300; default 0. Required > 0 when batchSize > 10. */
  readonly maximumBatchingWindowSeconds?: number;
  readonly functionResponseTypes?: readonly 'ReportBatchItemFailures'[];
  /** Default true. */
  readonly enabled?: boolean;
}

/**
 * What a synchronous invoke reports, shaped like Lambda's Invoke response: `functionError`
 * set (e.g. 'Unhandled') means the function failed; `payload` is its parsed result.
 * LambdaService.invoke(arn, event, 'RequestResponse') returns a compatible object.
 */
export interface InvokeOutcome {
  readonly functionError?: string;
  readonly payload?: unknown;
}

/** Invokes a function synchronously (RequestResponse). A rejection counts as a failed invoke. */
export type InvokeFunction = (functionArn: string, event: unknown) => Promise<InvokeOutcome>;

/** A running mapping with its defaults filled in; `lastModified` is when it started (epoch ms). */
export interface EventSourceMappingSummary {
  readonly uuid: string;
  readonly eventSourceArn: string;
  readonly functionArn: string;
  readonly batchSize: number;
  readonly maximumBatchingWindowSeconds: number;
  readonly functionResponseTypes: readonly string[];
  readonly enabled: boolean;
  readonly lastModified: number;
}

export interface EventSourceMapping {
  readonly uuid: string;
  readonly config: EventSourceMappingConfig;
  /** Stops polling; waits for the batch in flight to finish. */
  close(): Promise<void>;
}

export interface SqsServiceOptions {
  /** State directory; the queues and their messages live here. */
  readonly dir: string;
  readonly identity: CloudIdentity;
  readonly logger: LocalLogger;
  /** The local API's base URL, e.g. http://127.0.0.1:4566; queue URLs are minted from it. */
  readonly endpoint: () => string;
  /** Clock in epoch ms; tests may pass a fake one. */
  readonly now?: () => number;
  /**
   * How the event source mappings restored at start invoke their functions; without it the
   * stored mappings wait for the deployer to create them again.
   */
  readonly invokeFunction?: InvokeFunction;
}

export interface QueueSummary {
  readonly name: string;
  readonly url: string;
  readonly arn: string;
}

export interface SqsService {
  readonly route: ServiceRoute;
  /** Creates a queue (idempotent for identical attributes) and returns its URL. */
  createQueue(name: string, attributes?: Record<string, string>): Promise<string>;
  /** Updates attributes of an existing queue (SetQueueAttributes). */
  setQueueAttributes(queueUrlOrName: string, attributes: Record<string, string>): Promise<void>;
  deleteQueue(queueUrlOrName: string): Promise<void>;
  /** Sends one message; the returned id is durable once this resolves. */
  send(queueUrlOrArn: string, body: string, options?: SendOptions): Promise<{ messageId: string }>;
  receive(queueUrlOrArn: string, options?: ReceiveOptions): Promise<ReceivedMessage[]>;
  delete(queueUrlOrArn: string, receiptHandle: string): Promise<void>;
  queueUrlOf(name: string): string;
  queueArnOf(name: string): string;
  listQueues(): QueueSummary[];
  /** Approximate counts, as GetQueueAttributes reports them. */
  counts(queueUrlOrArn: string): { visible: number; inFlight: number; delayed: number };
  /**
   * Starts a mapping's poller and keeps it in `<dir>/mappings.json` so it polls again after a
   * restart. `uuid` keeps the identifier of a mapping that is being replaced (an update keeps its
   * UUID on AWS); a mapping already running under that UUID is an error: delete it first, so two
   * pollers never share a queue.
   */
  createEventSourceMapping(
    config: EventSourceMappingConfig,
    invoke: InvokeFunction,
    options?: { readonly uuid?: string },
  ): Promise<EventSourceMapping>;
  /** The running mapping with this UUID, if any. */
  eventSourceMapping(uuid: string): EventSourceMapping | undefined;
  /** Stops a mapping's poller (waiting for its batch in flight) and forgets it; unknown UUIDs are ignored. */
  deleteEventSourceMapping(uuid: string): Promise<void>;
  /** The running mappings, as Lambda's management API describes them (ListEventSourceMappings). */
  listEventSourceMappings(): EventSourceMappingSummary[];
  close(): Promise<void>;
}
