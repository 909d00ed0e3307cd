import { randomUUID } from 'node:crypto';
import { errorText, type LocalLogger } from '../common';
import type { SqsBackend } from './backend';
import { invalidParameter } from './errors';
import { lambdaMessageAttributes } from './messages';
import type { Queue } from './queue';
import type {
  EventSourceMapping,
  EventSourceMappingConfig,
  InvokeFunction,
  InvokeOutcome,
  ReceivedMessage,
} from './types';

/**
 * An SQS event source mapping: polls a queue, batches messages, invokes a function
 * synchronously and deletes what it processed (Lambda Developer Guide, "Using Lambda with
 * Amazon SQS": "Batching behavior", "Handling errors", "Implementing partial batch responses").
 *
 * LIMITATIONS versus AWS: one poller per mapping and one invocation at a time (AWS scales
 * pollers and concurrent batches up with queue depth); no ScalingConfig/MaximumConcurrency,
 * no filter criteria, no backoff beyond the visibility timeout; FIFO queues are not emulated.
 */

const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;

type MappingSettings = Required<EventSourceMappingConfig>;

export function validateMappingConfig(config: EventSourceMappingConfig): MappingSettings {
  const batchSize = config.batchSize ?? 10;
  const window = config.maximumBatchingWindowSeconds ?? 0;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) {
    throw invalidParameter(`BatchSize ${batchSize} is invalid: it must be an integer from 1 to 10000.`);
  }
  if (!Number.isFinite(window) || window < 0 || window > 300) {
    throw invalidParameter(`MaximumBatchingWindowInSeconds ${window} is invalid: it must be from 0 to 300.`);
  }
  if (batchSize > 10 && window <= 0) {
    throw invalidParameter(
      'Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10',
    );
  }
  for (const t of config.functionResponseTypes ?? []) {
    if (t !== 'ReportBatchItemFailures')
      throw invalidParameter(`FunctionResponseTypes value ${String(t)} is invalid.`);
  }
  return {
    queueArn: config.queueArn,
    functionArn: config.functionArn,
    batchSize,
    maximumBatchingWindowSeconds: window,
    functionResponseTypes: config.functionResponseTypes ?? [],
    enabled: config.enabled ?? true,
  };
}

export function startEventSourceMapping(
  backend: SqsBackend,
  config: EventSourceMappingConfig,
  invoke: InvokeFunction,
  logger: LocalLogger,
  uuid: string = randomUUID(),
): EventSourceMapping {
  const settings = validateMappingConfig(config);
  const stop = new AbortController();
  const reportFailures = settings.functionResponseTypes.includes('ReportBatchItemFailures');
  const log = logger.child(`esm ${uuid.slice(0, 8)}`);
  let warnedMissing = false;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        stop.signal.removeEventListener('abort', done);
        resolve();
      }
      stop.signal.addEventListener('abort', done, { once: true });
    });

  const findQueue = (): Queue | undefined => {
    try {
      const q = backend.resolve(settings.queueArn);
      warnedMissing = false;
      return q;
    } catch {
      if (!warnedMissing) log.warn(`queue ${settings.queueArn} does not exist; waiting for it`);
      warnedMissing = true;
      return undefined;
    }
  };

  /** Collects one batch: up to batchSize messages, within the batching window (AWS "Batching behavior"). */
  const collect = async (q: Queue): Promise<ReceivedMessage[]> => {
    // No explicit visibility: the queue's timeout as it is when each message is delivered.
    const first = await q.receive(Math.min(10, settings.batchSize), undefined, 20, stop.signal);
    const batch = [...first];
    if (batch.length === 0 || settings.maximumBatchingWindowSeconds === 0) return batch;
    const deadline = Date.now() + settings.maximumBatchingWindowSeconds * 1000;
    let bytes = batch.reduce((n, r) => n + Buffer.byteLength(r.message.body), 0);
    while (batch.length < settings.batchSize && bytes < MAX_PAYLOAD_BYTES && !stop.signal.aborted) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      const more = await q.receive(
        Math.min(10, settings.batchSize - batch.length),
        undefined,
        left / 1000,
        stop.signal,
      );
      for (const r of more) bytes += Buffer.byteLength(r.message.body);
      batch.push(...more);
    }
    return batch;
  };

  const toEvent = (q: Queue, batch: readonly ReceivedMessage[]) => ({
    Records: batch.map(({ message: m, receiptHandle }) => ({
      messageId: m.id,
      receiptHandle,
      body: m.body,
      attributes: {
        ApproximateReceiveCount: String(m.receiveCount),
        SentTimestamp: String(m.sentAt),
        SenderId: m.senderId,
        ApproximateFirstReceiveTimestamp: String(m.firstReceiveAt ?? m.sentAt),
        ...(m.system?.AWSTraceHeader?.StringValue
          ? { AWSTraceHeader: m.system.AWSTraceHeader.StringValue }
          : {}),
        ...(m.deadLetterSourceArn ? { DeadLetterQueueSourceArn: m.deadLetterSourceArn } : {}),
      },
      messageAttributes: lambdaMessageAttributes(m.attributes),
      md5OfBody: m.md5,
      ...(m.md5Attributes ? { md5OfMessageAttributes: m.md5Attributes } : {}),
      eventSource: 'aws:sqs',
      eventSourceARN: q.arn,
      awsRegion: backend.identity.region,
    })),
  });

  const handleBatch = async (q: Queue, batch: readonly ReceivedMessage[]) => {
    let outcome: InvokeOutcome;
    try {
      outcome = await invoke(settings.functionArn, toEvent(q, batch));
    } catch (err) {
      log.warn(
        `invoke of ${settings.functionArn} failed: ${errorText(err)}; ${batch.length} messages return after the visibility timeout`,
      );
      return;
    }
    if (outcome.functionError) {
      log.warn(
        `${settings.functionArn} returned an error (${outcome.functionError}) for a batch of ${batch.length}; the messages return after the visibility timeout`,
      );
      return;
    }
    let keep = new Set<string>();
    if (reportFailures) {
      const failed = batchItemFailures(outcome.payload, new Set(batch.map((r) => r.message.id)));
      if (failed === 'invalid') {
        log.warn(
          `${settings.functionArn} returned an invalid batchItemFailures response; the whole batch of ${batch.length} counts as failed`,
        );
        return;
      }
      keep = failed;
    }
    for (const r of batch) if (!keep.has(r.message.id)) q.delete(r.receiptHandle);
    if (keep.size > 0)
      log.info(`${keep.size} of ${batch.length} messages reported as failed; they stay on the queue`);
  };

  const loop = async () => {
    while (!stop.signal.aborted) {
      const q = findQueue();
      if (!q) {
        await sleep(1000);
        continue;
      }
      try {
        const batch = await collect(q);
        if (batch.length > 0) await handleBatch(q, batch);
      } catch (err) {
        log.error(`polling ${settings.queueArn} failed: ${errorText(err)}`);
        await sleep(1000);
      }
    }
  };

  const running = settings.enabled ? loop() : Promise.resolve();
  log.info(
    `mapping ${settings.queueArn} -> ${settings.functionArn} (batch ${settings.batchSize}, window ${settings.maximumBatchingWindowSeconds}s${reportFailures ? ', ReportBatchItemFailures' : ''}${settings.enabled ? '' : ', disabled'})`,
  );

  return {
    uuid,
    config: settings,
    async close() {
      stop.abort();
      await running;
    },
  };
}

/**
 * Reads a partial batch response ("Implementing partial batch responses"): success for a
 * null/empty response or list; 'invalid' (whole batch failed) for a malformed list, an empty
 * or null itemIdentifier, or one that names no message of the batch.
 */
function batchItemFailures(payload: unknown, ids: ReadonlySet<string>): Set<string> | 'invalid' {
  if (payload === null || payload === undefined || payload === '') return new Set();
  if (typeof payload !== 'object' || Array.isArray(payload)) return 'invalid';
  const list = (payload as { batchItemFailures?: unknown }).batchItemFailures;
  if (list === null || list === undefined) return new Set();
  if (!Array.isArray(list)) return 'invalid';
  const out = new Set<string>();
  for (const item of list) {
    const id = (item as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || id === '' || !ids.has(id)) return 'invalid';
    out.add(id);
  }
  return out;
}
