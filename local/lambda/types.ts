import type { CloudIdentity, LocalLogger } from '../common';
import type { ServiceRoute } from '../gateway';
import type { EventSourceMappingSummary } from '../sqs';

export interface FunctionDefinition {
  readonly functionName: string;
  /** Unqualified function ARN, `arn:aws:lambda:<region>:<account>:function:<name>`. */
  readonly arn: string;
  /** The bundled asset directory from the cloud assembly (index.js / index.mjs). */
  readonly codeDir: string;
  /** `file.export`, e.g. `index.handler`. */
  readonly handler: string;
  /** e.g. `nodejs22.x`. Only Node.js runtimes run; they run on the local Node version. */
  readonly runtime: string;
  /** Default 3, as in Lambda. */
  readonly timeoutSeconds?: number;
  /** Default 128. */
  readonly memoryMb?: number;
  readonly environment?: Readonly<Record<string, string>>;
  /** DeadLetterConfig.TargetArn (SQS) for failed asynchronous invocations. */
  readonly deadLetterTargetArn?: string;
  /** EventInvokeConfig DestinationConfig.OnFailure.Destination (SQS). */
  readonly onFailureDestinationArn?: string;
  /** EventInvokeConfig MaximumRetryAttempts (0-2); default 2. */
  readonly maximumRetryAttempts?: number;
  /** EventInvokeConfig MaximumEventAgeInSeconds (60-21600); default 21600 (six hours). */
  readonly maximumEventAgeSeconds?: number;
  /** Concurrent instances cap; default the service's maxInstancesPerFunction. */
  readonly reservedConcurrency?: number;
  /** What the management API reports (the template's Role, Description, ...); no local effect. */
  readonly role?: string;
  readonly description?: string;
  /** `x86_64` or `arm64`; default x86_64. The code runs on the local machine either way. */
  readonly architectures?: readonly string[];
  /** TracingConfig.Mode; default PassThrough. */
  readonly tracingMode?: string;
  /** EphemeralStorage.Size in MB; default 512. */
  readonly ephemeralStorageMb?: number;
  /** LoggingConfig: LogGroup (default `/aws/lambda/<name>`) and LogFormat (default Text). */
  readonly logGroup?: string;
  readonly logFormat?: string;
  readonly tags?: Readonly<Record<string, string>>;
}

/** A deployed function as the management API describes it. */
export interface FunctionInfo {
  readonly definition: FunctionDefinition;
  /** When it was created or last replaced, as Lambda writes it: `2019-09-24T18:20:35.054+0000`. */
  readonly lastModified: string;
  /** Changes with every create or replace. */
  readonly revisionId: string;
  /** Bytes of the staged code directory. */
  readonly codeSize: number;
  /** Base64 SHA-256 of the staged code directory (every file, in path order). */
  readonly codeSha256: string;
}

/**
 * An event source mapping that feeds a function, as the management API describes it: the SQS
 * service's description of a running mapping (`lastModified` in epoch milliseconds).
 */
export type EventSourceMappingView = EventSourceMappingSummary;

export type InvocationType = 'RequestResponse' | 'Event';

/** Lambda's error payload for a failed invocation (Node.js runtime shape). */
export interface FunctionErrorPayload {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly trace: readonly string[];
}

/** The result of Invoke, shaped like the API's response. */
export interface InvokeResult {
  /** 200 for RequestResponse, 202 for Event. */
  readonly statusCode: number;
  readonly requestId: string;
  readonly executedVersion: string;
  /** 'Unhandled' when the function failed; `payload` is then a FunctionErrorPayload. */
  readonly functionError?: 'Unhandled';
  /** The function's result as parsed JSON (null for an Event invocation). */
  readonly payload: unknown;
  /** The raw JSON the function returned. */
  readonly rawPayload: string;
}

/** Sends a message to an SQS queue by ARN (dead-letter queues and on-failure destinations). */
export type SendToQueue = (
  queueArn: string,
  body: string,
  attributes?: Record<string, { DataType: string; StringValue: string }>,
) => Promise<unknown>;

export interface LambdaServiceOptions {
  /** State directory; each function's /tmp and HOME live under it. */
  readonly dir: string;
  readonly identity: CloudIdentity;
  readonly logger: LocalLogger;
  /** The local AWS API endpoint the functions' SDK clients are pointed at. */
  readonly apiEndpoint: string;
  readonly region?: string;
  /** Where failed async invocations go when a function names an SQS DLQ or destination. */
  readonly sendToQueue?: SendToQueue;
  /** Delays before the async retries; Lambda's are about 1 and 2 minutes. */
  readonly asyncRetryDelaysMs?: readonly number[];
  /** Asynchronous events one function may have queued before Invoke is refused; default 10,000. */
  readonly maxQueuedEventsPerFunction?: number;
  /** An idle instance is stopped after this long; default 5 minutes. */
  readonly idleTimeoutMs?: number;
  /** Instances per function; default 4. */
  readonly maxInstancesPerFunction?: number;
  /**
   * A CA file the functions trust besides Node's own roots (NODE_EXTRA_CA_CERTS): the local
   * CA, which issues the local InfluxDB's server certificates. On AWS the instance presents a
   * certificate the runtime trusts already.
   */
  readonly extraCaFile?: string;
  /**
   * The event source mappings that invoke the functions (they live in the service that polls
   * the source, SQS), for ListEventSourceMappings and GetEventSourceMapping; default none.
   */
  readonly eventSourceMappings?: () => readonly EventSourceMappingView[];
  /** Clock in epoch ms for LastModified; default Date.now. */
  readonly now?: () => number;
}

export interface FunctionSummary {
  readonly functionName: string;
  readonly arn: string;
  readonly instances: number;
}

export interface LambdaService {
  readonly route: ServiceRoute;
  /** Creates or replaces a function; a replaced function's instances are stopped. */
  createFunction(definition: FunctionDefinition): Promise<void>;
  deleteFunction(arnOrName: string): Promise<void>;
  /**
   * Invokes a function. With 'Event' it resolves (202) once the event is in the durable queue,
   * and throws a LocalCapacityError when the function's queue is at its bound.
   */
  invoke(arnOrName: string, payload: unknown, invocationType?: InvocationType): Promise<InvokeResult>;
  listFunctions(): FunctionSummary[];
  /** Every deployed function with what the management API reports about it, by name. */
  describeFunctions(): FunctionInfo[];
  /** Resolves when no asynchronous invocation is queued or running (for tests and shutdown). */
  drainAsync(): Promise<void>;
  close(): Promise<void>;
}
