import {
  DEAD_LETTER_KIND,
  type DeadLetterCode,
  type DeadLetterEntry,
  describeIssues,
  IngestEnvelopeSchema,
  type KeptPayload,
  keptPayload,
  MAX_KEPT_PAYLOAD_CHARS,
  parseReadingMessage,
  parseTelemetryPayload,
  type Reading,
  readJsonObject,
  thingNamePrefix,
} from '../../contracts';
import type { DeadLetterSink } from '../shared/dead-letter-sink';
import {
  type ReadingRecord,
  StoreThrottledError,
  StoreUnavailableError,
  type TelemetryStore,
} from '../shared/telemetry-store';

/**
 * Ingest logic, free of any AWS SDK: turns a batch of ingest-queue messages into store writes
 * and dead-letter entries.
 *
 * Why the whole batch at once: Timestream meters a WriteRecords request by its size in 1 KiB
 * units, so 100 small records in one call cost about 9 writes where 100 one-record calls cost
 * 100. Messages carry a few readings each, so the valid readings of ALL messages are gathered
 * and written in chunks of up to `store.maxRecordsPerWrite`, across message boundaries.
 *
 * Failure accounting is per message: when a chunk cannot be written because the store stayed
 * throttled or unavailable, every message with a record in that chunk is reported failed and
 * SQS redelivers it. Its other records may already be stored; storing an identical record
 * again is accepted, so the redelivery is safe.
 */

/**
 * One message of the batch: the SQS message id and its body, the ingest rule's output
 * (IngestEnvelopeSchema: the published payload in base64 beside its address). The payload is
 * parsed here, so a payload that is not a reading message (binary, empty, not JSON, a JSON
 * string or array, nested too deep, without readings) is dead-lettered as INVALID_MESSAGE with
 * what is wrong and the payload as published, never dropped.
 *
 * LIMITATIONS: a body without `base64Payload` is read as the output of the earlier ingest rule
 * (`SELECT *, topic(3) AS building, ...`: the message's fields beside the address), so messages
 * queued before an upgrade are still stored.
 */
export interface IngestMessage {
  readonly id: string;
  readonly body: string;
}

export interface PlannedRecord {
  readonly messageId: string;
  readonly record: ReadingRecord;
}

export interface PlannedDeadLetter {
  readonly messageId: string;
  readonly entry: DeadLetterEntry;
}

export interface IngestPlan {
  /** Valid readings of the batch, duplicates removed, in message order. */
  readonly records: PlannedRecord[];
  /** Invalid messages and invalid readings, one entry per message per code. */
  readonly deadLetters: PlannedDeadLetter[];
  /** Readings seen: those of good envelopes, plus the countable readings of bad ones. */
  readonly received: number;
  readonly invalid: number;
  /** Readings dropped because the same (thing, seq) came earlier in the batch. */
  readonly duplicates: number;
}

/** A payload kept in a dead-letter entry is cut to this many characters. */
export const MAX_DEAD_LETTER_PAYLOAD_CHARS = MAX_KEPT_PAYLOAD_CHARS;

export type ParsedBody =
  | {
      readonly ok: true;
      readonly building: string;
      readonly zone: string;
      readonly thing: string;
      readonly valid: Reading[];
      readonly invalid: Array<{ reading: unknown; reason: string }>;
    }
  | {
      readonly ok: false;
      readonly reason: string;
      /** The address, as far as the body gives one. */
      readonly address: { building?: string; zone?: string; thing?: string };
      /** The published message as parsed, when it is a JSON object (to count its readings). */
      readonly message: unknown;
      /** The payload as the dead-letter entry keeps it. */
      readonly kept: KeptPayload;
    };

/**
 * Parses one message body. A body that is not the ingest rule's output, a payload that is not
 * a JSON object, or a bad message envelope rejects the whole message; inside a good envelope
 * each reading is validated alone.
 */
export function parseIngestBody(body: string): ParsedBody {
  // The body itself must be a JSON object of bounded depth before any schema walks it.
  const outer = readJsonObject(body);
  if (!outer.ok) {
    return refused(
      `message: the queue message is not the ingest rule's output (an object with base64Payload, building, zone, thing): ${outer.what}`,
      undefined,
      body,
    );
  }
  const json = outer.message;
  const hasEncoded = typeof json.base64Payload === 'string';
  const envelope = (hasEncoded ? IngestEnvelopeSchema : LegacyEnvelopeSchema).safeParse(json);
  if (!envelope.success) {
    return refused(describeIssues(envelope.error, json, 'message').join('; '), json, body);
  }
  const { building, zone, thing } = envelope.data;
  const address = { building, zone, thing };
  const bytes = hasEncoded ? Buffer.from(json.base64Payload as string, 'base64') : Buffer.from(body, 'utf8');
  const payload = parseTelemetryPayload(bytes);
  if (!payload.ok)
    return { ok: false, reason: payload.reason, address, message: undefined, kept: keptPayload(bytes) };
  const parsed = parseReadingMessage(payload.message);
  if (!parsed.ok) {
    return { ok: false, reason: parsed.reason, address, message: payload.message, kept: keptPayload(bytes) };
  }
  return {
    ok: true,
    building,
    zone,
    thing,
    valid: parsed.valid,
    invalid: parsed.invalid.map(({ reading, reason }) => ({ reading, reason })),
  };
}

/** The output of the earlier ingest rule: the message's own fields beside the address. */
const LegacyEnvelopeSchema = IngestEnvelopeSchema.omit({ base64Payload: true });

function refused(reason: string, json: unknown, body: string): ParsedBody {
  return {
    ok: false,
    reason,
    address: addressOf(json),
    message: json,
    kept: keptPayload(Buffer.from(body, 'utf8')),
  };
}

/**
 * Why a message addressed to `building`/`thing` does not belong to this pipeline's building,
 * or undefined when it does. The topic filter names the building, so this only fires for a
 * misrouted message (a rule edited by hand, another building's queue wired to this function).
 */
export function foreignAddress(
  address: { building: string; thing: string },
  ownBuilding: string | undefined,
): string | undefined {
  if (ownBuilding === undefined) return undefined;
  if (address.building !== ownBuilding) {
    return `the message is addressed to building '${address.building}', but this pipeline stores building '${ownBuilding}' only`;
  }
  if (!address.thing.startsWith(thingNamePrefix(ownBuilding))) {
    return `thing '${address.thing}' is not named '${thingNamePrefix(ownBuilding)}...', so it is not a thing of building '${ownBuilding}'`;
  }
  return undefined;
}

/**
 * Parses every message, drops duplicate (thing, seq) within the batch and lists what to
 * dead-letter. With `ownBuilding`, a message of another building is dead-lettered whole
 * (FOREIGN_BUILDING) and none of its readings is stored.
 */
export function planIngest(
  messages: readonly IngestMessage[],
  now: number,
  ownBuilding?: string,
): IngestPlan {
  const records: PlannedRecord[] = [];
  const deadLetters: PlannedDeadLetter[] = [];
  const seen = new Set<string>();
  let received = 0;
  let invalid = 0;
  let duplicates = 0;
  for (const message of messages) {
    const parsed = parseIngestBody(message.body);
    if (!parsed.ok) {
      const count = countableReadings(parsed.message);
      received += count;
      invalid += count;
      deadLetters.push({
        messageId: message.id,
        entry: {
          kind: DEAD_LETTER_KIND,
          code: 'INVALID_MESSAGE',
          reason: parsed.reason,
          ...parsed.address,
          readings: [],
          ...parsed.kept,
          at: now,
        },
      });
      continue;
    }
    const { building, zone, thing } = parsed;
    const foreign = foreignAddress({ building, thing }, ownBuilding);
    if (foreign !== undefined) {
      const all = [...parsed.valid.map((reading) => ({ reading, reason: foreign })), ...parsed.invalid];
      received += all.length;
      invalid += all.length;
      deadLetters.push({
        messageId: message.id,
        entry: { ...entry('FOREIGN_BUILDING', { building, zone, thing }, all, now), reason: foreign },
      });
      continue;
    }
    received += parsed.valid.length + parsed.invalid.length;
    invalid += parsed.invalid.length;
    if (parsed.invalid.length > 0) {
      deadLetters.push({
        messageId: message.id,
        entry: entry('INVALID_READING', { building, zone, thing }, parsed.invalid, now),
      });
    }
    for (const reading of parsed.valid) {
      const key = `${thing}\u0000${reading.seq}`;
      if (seen.has(key)) {
        duplicates++;
        continue;
      }
      seen.add(key);
      records.push({ messageId: message.id, record: { building, zone, thing, reading } });
    }
  }
  return { records, deadLetters, received, invalid, duplicates };
}

/** Splits items into consecutive chunks of at most `size`. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  if (!Number.isInteger(size) || size < 1)
    throw new RangeError(`chunk size must be a whole number >= 1; got ${size}`);
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export interface IngestLog {
  warn(message: string, ...extra: Array<Record<string, unknown>>): void;
}

export interface IngestDeps {
  /** The building this pipeline stores; messages of any other are dead-lettered. */
  readonly building?: string;
  readonly store: TelemetryStore;
  readonly deadLetters: DeadLetterSink;
  readonly now: () => number;
  readonly log?: IngestLog;
}

export interface IngestCounts {
  readonly received: number;
  readonly stored: number;
  readonly invalid: number;
  readonly rejected: number;
  readonly duplicates: number;
  /** Readings left unwritten because the store stayed throttled or unavailable; redelivered. */
  readonly deferred: number;
  readonly deadLettered: number;
  /** Dead-letter entries that could not be sent; their messages are redelivered. */
  readonly deadLetterFailures: number;
}

export interface IngestOutcome {
  /** Messages SQS must deliver again (partial batch response), in batch order. */
  readonly failedMessageIds: string[];
  readonly counts: IngestCounts;
}

/**
 * Writes a batch: all valid readings in chunks, invalid and store-rejected readings to the
 * dead-letter sink. StoreThrottledError and StoreUnavailableError fail only the messages of
 * the chunk concerned; any other error propagates (the whole batch is then redelivered).
 */
export async function ingestBatch(
  messages: readonly IngestMessage[],
  deps: IngestDeps,
): Promise<IngestOutcome> {
  const now = deps.now();
  const plan = planIngest(messages, now, deps.building);
  const failed = new Set<string>();
  const rejectedByMessage = new Map<string, Array<{ record: ReadingRecord; reason: string }>>();
  let stored = 0;
  let rejected = 0;
  let deferred = 0;

  for (const part of chunk(plan.records, deps.store.maxRecordsPerWrite)) {
    try {
      const result = await deps.store.write(part.map((p) => p.record));
      const refused = new Set<number>();
      for (const r of result.rejected) {
        const planned = part[r.index];
        if (!planned || refused.has(r.index)) continue;
        refused.add(r.index);
        const list = rejectedByMessage.get(planned.messageId) ?? [];
        list.push({ record: planned.record, reason: r.reason });
        rejectedByMessage.set(planned.messageId, list);
      }
      rejected += refused.size;
      stored += part.length - refused.size;
    } catch (error) {
      if (!(error instanceof StoreThrottledError || error instanceof StoreUnavailableError)) throw error;
      deferred += part.length;
      for (const p of part) failed.add(p.messageId);
      deps.log?.warn('readings not stored; their messages will be redelivered', {
        reason: error.message,
        readings: part.length,
      });
    }
  }

  // Entries of messages that will be redelivered are sent on that delivery instead, once.
  const outgoing: PlannedDeadLetter[] = plan.deadLetters.filter((d) => !failed.has(d.messageId));
  for (const [messageId, list] of rejectedByMessage) {
    if (failed.has(messageId)) continue;
    const first = list[0]!.record;
    outgoing.push({
      messageId,
      entry: entry(
        'REJECTED_BY_STORE',
        first,
        list.map((r) => ({ reading: r.record.reading, reason: r.reason })),
        now,
      ),
    });
  }

  let deadLetterFailures = 0;
  if (outgoing.length > 0) {
    const result = await deps.deadLetters.send(outgoing.map((o) => o.entry));
    for (const f of result.failed) {
      const o = outgoing[f.index];
      if (!o) continue;
      deadLetterFailures++;
      failed.add(o.messageId);
      deps.log?.warn('dead-letter entry not sent; its message will be redelivered', {
        reason: f.reason,
        code: o.entry.code,
      });
    }
  }

  return {
    failedMessageIds: messages.map((m) => m.id).filter((id) => failed.has(id)),
    counts: {
      received: plan.received,
      stored,
      invalid: plan.invalid,
      rejected,
      duplicates: plan.duplicates,
      deferred,
      deadLettered: outgoing.length - deadLetterFailures,
      deadLetterFailures,
    },
  };
}

function entry(
  code: DeadLetterCode,
  address: { building: string; zone: string; thing: string },
  readings: ReadonlyArray<{ reading: unknown; reason: string }>,
  at: number,
): DeadLetterEntry {
  return {
    kind: DEAD_LETTER_KIND,
    code,
    reason: [...new Set(readings.map((r) => r.reason))].join('; '),
    building: address.building,
    zone: address.zone,
    thing: address.thing,
    readings: readings.map((r) => r.reading),
    at,
  };
}

function addressOf(json: unknown): { building?: string; zone?: string; thing?: string } {
  if (!json || typeof json !== 'object') return {};
  const out: { building?: string; zone?: string; thing?: string } = {};
  for (const key of ['building', 'zone', 'thing'] as const) {
    const value = (json as Record<string, unknown>)[key];
    if (typeof value === 'string' && value !== '') out[key] = value;
  }
  return out;
}

function countableReadings(json: unknown): number {
  if (!json || typeof json !== 'object') return 0;
  const readings = (json as { readings?: unknown }).readings;
  return Array.isArray(readings) ? readings.length : 0;
}
