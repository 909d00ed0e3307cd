import { z } from 'zod';
import { MEASURES, SENSOR_KINDS, type SensorKind } from './measures';
import { describeIssues } from './validation';

/**
 * The reading message a device publishes on its telemetry topic. One message carries one or
 * more timestamped readings so a device can batch; each reading carries the device's
 * sequence number so the cloud can drop duplicates after a replay.
 *
 * ```json
 * {"v":1,"readings":[{"ts":1763900000000,"seq":41,"temperature":21.4,"humidity":40.2}]}
 * ```
 */

export const TELEMETRY_VERSION = 1;
export const MAX_READINGS_PER_MESSAGE = 100;
/** AWS IoT Core's payload limit for one MQTT message. */
export const MAX_MESSAGE_BYTES = 128 * 1024;

const measure = (kind: SensorKind) => {
  const spec = MEASURES[kind];
  const base = z
    .number({ message: `a number in ${spec.unit}` })
    .min(spec.min, { message: `a ${kind} of at least ${spec.min} ${spec.unit}` })
    .max(spec.max, { message: `a ${kind} of at most ${spec.max} ${spec.unit}` });
  return (spec.integer ? base.int({ message: `a whole number of ${spec.unit}` }) : base).optional();
};

export const ReadingSchema = z
  .object({
    /** When the reading was taken, epoch milliseconds. */
    ts: z
      .number({ message: 'a timestamp in epoch milliseconds' })
      .int({ message: 'a whole number of epoch milliseconds' })
      .min(946_684_800_000, { message: 'a timestamp in epoch milliseconds after 2000-01-01' })
      .max(4_102_444_800_000, { message: 'a timestamp in epoch milliseconds before 2100-01-01' }),
    /** Per-thing sequence number, increasing by one per reading; survives restarts. */
    seq: z.number().int().min(0, { message: 'a non-negative whole sequence number' }),
    temperature: measure('temperature'),
    humidity: measure('humidity'),
    occupancy: measure('occupancy'),
    co2: measure('co2'),
    light: measure('light'),
  })
  .strict()
  .refine((r) => SENSOR_KINDS.some((k) => r[k] !== undefined), {
    message: `at least one measure (${SENSOR_KINDS.join(', ')})`,
  });

export type Reading = z.output<typeof ReadingSchema>;

/** Envelope as published by the device. Readings are validated one by one (see parseReadingMessage). */
export const ReadingMessageSchema = z
  .object({
    v: z.literal(TELEMETRY_VERSION, { message: `contract version ${TELEMETRY_VERSION}` }),
    readings: z
      .array(z.unknown())
      .min(1, { message: 'at least one reading' })
      .max(MAX_READINGS_PER_MESSAGE, { message: `at most ${MAX_READINGS_PER_MESSAGE} readings` }),
  })
  .passthrough();

export interface ReadingMessage {
  readonly v: typeof TELEMETRY_VERSION;
  readonly readings: readonly Reading[];
}

export interface InvalidReading {
  readonly index: number;
  readonly reading: unknown;
  readonly reason: string;
}

export type ParsedReadingMessage =
  | { readonly ok: true; readonly valid: Reading[]; readonly invalid: InvalidReading[] }
  | { readonly ok: false; readonly reason: string };

/**
 * Parses a message: a bad envelope rejects the whole message; inside a good envelope each
 * reading stands alone, so one bad reading never costs its neighbours.
 */
export function parseReadingMessage(input: unknown): ParsedReadingMessage {
  const envelope = ReadingMessageSchema.safeParse(input);
  if (!envelope.success) {
    return { ok: false, reason: describeIssues(envelope.error, input, 'message').join('; ') };
  }
  const valid: Reading[] = [];
  const invalid: InvalidReading[] = [];
  envelope.data.readings.forEach((reading, index) => {
    const parsed = ReadingSchema.safeParse(reading);
    if (parsed.success) valid.push(parsed.data);
    else
      invalid.push({
        index,
        reading,
        reason: describeIssues(parsed.error, reading, `readings[${index}]`).join('; '),
      });
  });
  return { ok: true, valid, invalid };
}

/**
 * What the ingest rule's SQL adds to each message before it reaches the ingest queue: the
 * thing's address taken from the topic (which the IoT policy ties to the thing's own
 * attributes), the client id and the time the rules engine saw it.
 */
export const IngestEnvelopeSchema = z
  .object({
    building: z.string().min(1),
    zone: z.string().min(1),
    thing: z.string().min(1),
    clientId: z.string().optional(),
    receivedAt: z.number().optional(),
  })
  .passthrough();

export type IngestEnvelope = z.output<typeof IngestEnvelopeSchema>;

/** Multi-measure record layout in the telemetry table. */
export const READING_MEASURE_NAME = 'reading';
export const DIMENSIONS = ['building', 'zone', 'thing'] as const;
/** The per-thing sequence number is stored as a BIGINT measure beside the sensor values. */
export const SEQUENCE_MEASURE = 'seq';
