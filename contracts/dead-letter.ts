import { z } from 'zod';

/**
 * What lands in the pipeline's dead-letter queue. Three shapes arrive there:
 *  - ingest entries written by the ingest function (this schema), one per message, listing the
 *    readings that were invalid or rejected by the store, with the reason;
 *  - AWS IoT rule error-action payloads (`ruleName`, `failures`, `base64OriginalPayload`);
 *  - ingest-queue messages moved by SQS redrive after too many failed receives (the rule's output).
 */
export const DEAD_LETTER_KIND = 'zonectl.dead-letter' as const;

export const DEAD_LETTER_CODES = ['INVALID_MESSAGE', 'INVALID_READING', 'REJECTED_BY_STORE'] as const;
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
  /** The raw message body when it could not be parsed (INVALID_MESSAGE). */
  payload: z.string().optional(),
  at: z.number(),
});

export type DeadLetterEntry = z.output<typeof DeadLetterEntrySchema>;

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

/** How many readings a dead-letter body accounts for, whatever its shape; used to balance the books. */
export function deadLetteredReadingCount(body: string): number {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return 0;
  }
  const entry = DeadLetterEntrySchema.safeParse(parsed);
  if (entry.success) return entry.data.readings.length;
  const ruleError = RuleErrorPayloadSchema.safeParse(parsed);
  if (ruleError.success) {
    try {
      return countReadings(
        JSON.parse(Buffer.from(ruleError.data.base64OriginalPayload, 'base64').toString('utf8')),
      );
    } catch {
      return 0;
    }
  }
  return countReadings(parsed);
}

function countReadings(message: unknown): number {
  if (message && typeof message === 'object' && Array.isArray((message as { readings?: unknown }).readings)) {
    return (message as { readings: unknown[] }).readings.length;
  }
  return 0;
}
