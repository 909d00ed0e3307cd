import { z } from 'zod';
import { CONTROL_EVENT_KIND, rulePurposeOf } from './rules';
import { hasControlCharacters, parseTelemetryPayload, utf8Text } from './telemetry';

/**
 * What lands in the pipeline's dead-letter queue. Four shapes arrive there:
 *  - ingest entries written by the ingest function (this schema), one per message, listing the
 *    readings that were invalid or rejected by the store, with the reason;
 *  - AWS IoT rule error-action payloads (`ruleName`, `failures`, `base64OriginalPayload`);
 *  - ingest-queue messages moved by SQS redrive after too many failed receives (the rule's output,
 *    IngestEnvelopeSchema: the payload in base64 beside its address);
 *  - control events (CONTROL_RULE output, `kind` CONTROL_EVENT_KIND) moved by SQS redrive after
 *    the zone controller kept failing on them.
 * The control path sees the same telemetry as the ingest path, so its dead letters stand for
 * decisions that were not made, not for readings: the ingest path stores or dead-letters those.
 */
export const DEAD_LETTER_KIND = 'zonectl.dead-letter' as const;

/**
 * FOREIGN_BUILDING: a message whose address names another building (or a thing without this
 * building's name prefix); a building's pipeline never stores another building's readings.
 */
export const DEAD_LETTER_CODES = [
  'INVALID_MESSAGE',
  'INVALID_READING',
  'REJECTED_BY_STORE',
  'FOREIGN_BUILDING',
] as const;
export type DeadLetterCode = (typeof DEAD_LETTER_CODES)[number];

export const DeadLetterEntrySchema = z.object({
  kind: z.literal(DEAD_LETTER_KIND),
  code: z.enum(DEAD_LETTER_CODES),
  reason: z.string(),
  building: z.string().optional(),
  zone: z.string().optional(),
  thing: z.string().optional(),
  /** The readings concerned, as received. Empty for INVALID_MESSAGE. */
  readings: z.array(z.unknown()),
  /**
   * The payload as published when it is not a reading message (INVALID_MESSAGE): as text when
   * it is UTF-8 text, in base64 otherwise (payloadEncoding), cut to MAX_KEPT_PAYLOAD_CHARS.
   */
  payload: z.string().optional(),
  payloadEncoding: z.enum(['text', 'base64']).optional(),
  /** The payload's size as published, in bytes (the kept payload may be cut). */
  payloadBytes: z.number().optional(),
  payloadTruncated: z.boolean().optional(),
  at: z.number(),
});

export type DeadLetterEntry = z.output<typeof DeadLetterEntrySchema>;

/** A payload kept in a dead-letter entry is cut to this many characters (text or base64). */
export const MAX_KEPT_PAYLOAD_CHARS = 64 * 1024;

export type KeptPayload = Pick<
  DeadLetterEntry,
  'payload' | 'payloadEncoding' | 'payloadBytes' | 'payloadTruncated'
>;

/**
 * A published payload as a dead-letter entry keeps it: text when it is UTF-8 text without
 * control characters (so an operator reads it as sent), base64 otherwise; cut to
 * MAX_KEPT_PAYLOAD_CHARS either way, so an entry stays far below SQS's message size limit even
 * when every character is escaped in the entry's JSON.
 */
export function keptPayload(bytes: Uint8Array, maxChars = MAX_KEPT_PAYLOAD_CHARS): KeptPayload {
  const text = utf8Text(bytes);
  if (text !== undefined && !hasControlCharacters(text)) {
    const cut = text.length > maxChars;
    return {
      payload: cut ? `${text.slice(0, maxChars)}...[truncated]` : text,
      payloadEncoding: 'text',
      payloadBytes: bytes.length,
      ...(cut ? { payloadTruncated: true } : {}),
    };
  }
  const maxBytes = Math.floor(maxChars / 4) * 3;
  const cut = bytes.length > maxBytes;
  return {
    payload: Buffer.from(bytes.subarray(0, maxBytes)).toString('base64'),
    payloadEncoding: 'base64',
    payloadBytes: bytes.length,
    ...(cut ? { payloadTruncated: true } : {}),
  };
}

export const RuleErrorPayloadSchema = z
  .object({
    ruleName: z.string(),
    topic: z.string(),
    clientId: z.string().optional(),
    base64OriginalPayload: z.string(),
    failures: z.array(
      z
        .object({ failedAction: z.string(), failedResource: z.string().optional(), errorMessage: z.string() })
        .passthrough(),
    ),
  })
  .passthrough();

export type RuleErrorPayload = z.output<typeof RuleErrorPayloadSchema>;

/** Where a dead letter came from (see the three shapes above), or 'unreadable' for a body that is not JSON. */
export type DeadLetterOrigin = 'ingest' | 'rule' | 'redrive' | 'control' | 'unreadable';

/** One dead letter described for people (the dashboard) and for the books (the demo). */
export interface DeadLetterDescription {
  readonly origin: DeadLetterOrigin;
  /** Where it came from, for people: `ingest`, `rule <name>`, `redrive`, `control` or `unknown`. */
  readonly source: string;
  /** The whole reason, as the dashboard lists it. */
  readonly reason: string;
  /** A short reason that alike dead letters share, so they can be counted together. */
  readonly summary: string;
  /** How many readings it accounts for; used to balance the books (0 for the control path's). */
  readonly readings: number;
  /** When the ingest function wrote it (ingest entries only; the function's clock). */
  readonly at?: number;
  /**
   * The newest timestamp (`ts`) among its readings, if any has one: when the data is from, on
   * the building's clock (simulated time in the demo), where `at` is the software's.
   */
  readonly readingsAt?: number;
  readonly thing?: string;
}

/** Reads one dead-letter queue message body, whatever its shape; never throws. */
export function describeDeadLetter(body: string): DeadLetterDescription {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return {
      origin: 'unreadable',
      source: 'unknown',
      reason: body.slice(0, 120),
      summary: 'unreadable dead letter',
      readings: 0,
    };
  }
  const entry = DeadLetterEntrySchema.safeParse(parsed);
  if (entry.success) {
    const { code, reason, at, thing, readings } = entry.data;
    return {
      origin: 'ingest',
      source: 'ingest',
      reason: `${code}: ${reason}`,
      summary: `${code}: ${shortReason(reason)}`,
      readings: readings.length,
      at,
      readingsAt: newestTs(readings),
      thing,
    };
  }
  const ruleError = RuleErrorPayloadSchema.safeParse(parsed);
  if (ruleError.success) {
    const { ruleName, failures, base64OriginalPayload } = ruleError.data;
    const control = rulePurposeOf(ruleName) === 'control';
    const original = messageInBase64(base64OriginalPayload);
    return {
      origin: control ? 'control' : 'rule',
      source: `rule ${ruleName}`,
      reason: failures.map((f) => `${f.failedAction}: ${f.errorMessage}`).join('; '),
      summary: `rule ${ruleName} action failed`,
      readings: control ? 0 : countReadings(original),
      readingsAt: newestTs(readingsOf(original)),
    };
  }
  if ((parsed as { kind?: unknown } | null)?.kind === CONTROL_EVENT_KIND) {
    const event = parsed as { zone?: unknown; thing?: unknown };
    return {
      origin: 'control',
      source: 'control',
      reason: `the zone controller kept failing on a control event of zone ${String(event.zone)} (${countReadings(parsed)} readings, stored by the ingest path)`,
      summary: 'control event the zone controller kept failing on',
      readings: 0,
      ...(typeof event.thing === 'string' ? { thing: event.thing } : {}),
    };
  }
  const message = publishedMessage(parsed);
  const readings = countReadings(message);
  return {
    origin: 'redrive',
    source: 'redrive',
    reason: `message retried too often (${readings} readings)`,
    summary: 'redriven after repeated ingest failures',
    readings,
    readingsAt: newestTs(readingsOf(message)),
  };
}

/** How many readings a dead-letter body accounts for, whatever its shape; used to balance the books. */
export function deadLetteredReadingCount(body: string): number {
  return describeDeadLetter(body).readings;
}

/** A reason without reading indexes, given values and payload sizes, so alike refusals group together. */
function shortReason(reason: string): string {
  return reason
    .replace(/readings\[\d+\]/g, 'reading')
    .replace(/got [^;]+; /g, '')
    .replace(/, \d+ bytes?(: [^;]*)?\)/g, ')')
    .replace(/ \(\d+ bytes?\)/g, '')
    .slice(0, 90);
}

function messageInBase64(payload: string): unknown {
  const parsed = parseTelemetryPayload(Buffer.from(payload, 'base64'));
  return parsed.ok ? parsed.message : undefined;
}

/**
 * The published message of an ingest-queue body: the decoded `base64Payload` of the ingest
 * rule's output, or the body itself for the output of the earlier rule (`SELECT *, ...`),
 * which carried the message's fields beside the address.
 */
export function publishedMessage(body: unknown): unknown {
  const encoded = (body as { base64Payload?: unknown } | null)?.base64Payload;
  return typeof encoded === 'string' ? messageInBase64(encoded) : body;
}

function readingsOf(message: unknown): unknown[] {
  const readings = (message as { readings?: unknown } | null | undefined)?.readings;
  return Array.isArray(readings) ? readings : [];
}

/** The newest finite `ts` among readings as received, whatever else they hold. */
function newestTs(readings: readonly unknown[]): number | undefined {
  let newest: number | undefined;
  for (const r of readings) {
    const ts = (r as { ts?: unknown } | null)?.ts;
    if (typeof ts === 'number' && Number.isFinite(ts) && (newest === undefined || ts > newest)) newest = ts;
  }
  return newest;
}

function countReadings(message: unknown): number {
  if (message && typeof message === 'object' && Array.isArray((message as { readings?: unknown }).readings)) {
    return (message as { readings: unknown[] }).readings.length;
  }
  return 0;
}
