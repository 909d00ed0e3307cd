/**
 * Local Amazon SQS: standard queues over the AWS JSON 1.0 and query (XML) protocols on the
 * local API gateway,
 * kept on disk so queued messages survive a restart, plus Lambda event source mappings.
 *
 * Follows the Amazon SQS Developer Guide ("Amazon SQS visibility timeout", "Amazon SQS short
 * and long polling", "Using dead-letter queues in Amazon SQS", "Amazon SQS delay queues",
 * "Amazon SQS message attributes") and the API Reference page of each operation.
 *
 * LIMITATIONS versus AWS:
 * - Standard queues only; FIFO queues (`.fifo`, FifoQueue) are refused. Delivery is in send
 *   order and exactly-once in practice, where SQS may reorder and duplicate.
 * - Operations (both protocols): CreateQueue, GetQueueUrl, ListQueues, DeleteQueue,
 *   Get/SetQueueAttributes, PurgeQueue, SendMessage(Batch), ReceiveMessage,
 *   DeleteMessage(Batch), ChangeMessageVisibility(Batch), ListDeadLetterSourceQueues. Tags,
 *   permissions and message move tasks answer UnsupportedOperation.
 * - Queue policies, KMS/SSE and RedriveAllowPolicy are stored and reported, not enforced.
 *   Any credentials are accepted; SenderId is the caller's access key id.
 * - PurgeQueue takes effect at once (no 60-second PurgeQueueInProgress window); a deleted
 *   queue's name can be reused at once (no QueueDeletedRecently).
 * - In-flight state is not persisted: after a restart every message is visible again (receive
 *   counts are kept). Deletes and receives are written without fsync; sends are on disk (group
 *   commit: one fsync per event-loop turn) before they are acknowledged, and a full disk
 *   answers ServiceUnavailable (503) instead of acknowledging.
 * - Message size limit is 256 KiB (MaximumMessageSize up to 262144).
 */
import { mkdirSync } from 'node:fs';
import { SqsBackend } from './backend';
import { startEventSourceMapping } from './event-source-mapping';
import { createSqsRoute } from './route';
import { MappingRecords } from './store';
import type {
  EventSourceMapping,
  EventSourceMappingConfig,
  InvokeFunction,
  SqsService,
  SqsServiceOptions,
} from './types';

export async function createSqsService(options: SqsServiceOptions): Promise<SqsService> {
  mkdirSync(options.dir, { recursive: true });
  const logger = options.logger;
  const backend = new SqsBackend(
    options.dir,
    options.identity,
    logger,
    options.endpoint,
    options.now ?? Date.now,
  );
  backend.load();
  const route = createSqsRoute(backend);
  const mappings = new Map<string, EventSourceMapping>();
  const mappingRecords = new MappingRecords(options.dir, logger);
  const mappingCreatedAt = new Map<string, number>();
  const now = options.now ?? Date.now;
  let closed = false;

  /** Starts a poller; closing it, by whoever holds it, takes it off the list (not off the disk). */
  const run = (
    config: EventSourceMappingConfig,
    invoke: InvokeFunction,
    uuid: string | undefined,
    createdAt: number,
  ): EventSourceMapping => {
    const started = startEventSourceMapping(backend, config, invoke, logger, uuid);
    const mapping: EventSourceMapping = {
      uuid: started.uuid,
      config: started.config,
      close: async () => {
        mappings.delete(started.uuid);
        mappingCreatedAt.delete(started.uuid);
        await started.close();
      },
    };
    mappings.set(mapping.uuid, mapping);
    mappingCreatedAt.set(mapping.uuid, createdAt);
    return mapping;
  };

  // The mappings of the last run poll again; the deployer finds them by UUID on a redeploy.
  if (options.invokeFunction) {
    for (const stored of mappingRecords.all()) {
      const { uuid, createdAt, ...config } = stored;
      try {
        run(config, options.invokeFunction, uuid, createdAt ?? now());
      } catch (err) {
        logger.warn(`event source mapping ${uuid} is not restored: ${(err as Error).message}`);
      }
    }
    if (mappings.size > 0) logger.info(`restored ${mappings.size} event source mapping(s)`);
  }

  return {
    route,
    async createQueue(name, attributes = {}) {
      return backend.urlOf(backend.createQueue(name, attributes).name);
    },
    async setQueueAttributes(ref, attributes) {
      backend.setAttributes(backend.resolve(ref), attributes);
    },
    async deleteQueue(ref) {
      await backend.deleteQueue(backend.resolve(ref));
    },
    async send(ref, body, opts = {}) {
      const q = backend.resolve(ref);
      const m = backend.buildMessage(q, {
        body,
        attributes: opts.attributes,
        systemAttributes: opts.traceHeader
          ? { AWSTraceHeader: { DataType: 'String', StringValue: opts.traceHeader } }
          : undefined,
        delaySeconds: opts.delaySeconds,
        senderId: opts.senderId ?? options.identity.accountId,
      });
      await backend.accept(q, [m]);
      return { messageId: m.id };
    },
    async receive(ref, opts = {}) {
      return backend.receive(backend.resolve(ref), {
        max: opts.maxMessages,
        visibility: opts.visibilityTimeout,
        wait: opts.waitSeconds,
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
    },
    async delete(ref, receiptHandle) {
      backend.resolve(ref).delete(receiptHandle);
    },
    queueUrlOf: (name) => backend.urlOf(name),
    queueArnOf: (name) => backend.arnOf(name),
    listQueues: () => backend.list().map((q) => ({ name: q.name, url: backend.urlOf(q.name), arn: q.arn })),
    counts: (ref) => backend.resolve(ref).counts(),
    async createEventSourceMapping(config, invoke, opts = {}) {
      if (closed) throw new Error('the SQS service is closed');
      if (opts.uuid !== undefined && mappings.has(opts.uuid)) {
        throw new Error(`event source mapping ${opts.uuid} is already running; delete it first`);
      }
      const createdAt = now();
      const mapping = run(config, invoke, opts.uuid, createdAt);
      const { functionResponseTypes, ...rest } = mapping.config;
      mappingRecords.put({
        uuid: mapping.uuid,
        ...rest,
        ...(functionResponseTypes ? { functionResponseTypes: [...functionResponseTypes] } : {}),
        createdAt,
      });
      return mapping;
    },
    eventSourceMapping: (uuid) => mappings.get(uuid),
    async deleteEventSourceMapping(uuid) {
      mappingRecords.remove(uuid);
      await mappings.get(uuid)?.close();
    },
    listEventSourceMappings: () =>
      [...mappings.values()].map(({ uuid, config }) => ({
        uuid,
        eventSourceArn: config.queueArn,
        functionArn: config.functionArn,
        batchSize: config.batchSize ?? 10,
        maximumBatchingWindowSeconds: config.maximumBatchingWindowSeconds ?? 0,
        functionResponseTypes: config.functionResponseTypes ?? [],
        enabled: config.enabled ?? true,
        lastModified: mappingCreatedAt.get(uuid) ?? 0,
      })),
    async close() {
      if (closed) return;
      closed = true;
      const stopping = [...mappings.values()].map((m) => m.close());
      mappings.clear();
      // Closing the queues ends long polls, including those of the mappings.
      await Promise.all([backend.close(), ...stopping]);
    },
  };
}
