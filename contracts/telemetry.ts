import { z } from 'zod';
import { MEASURES, SENSOR_KINDS, type SensorKind } from './measures';
import { nestingDepth } from './nesting';
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
 * The ingest rule's output, one per published message: the payload exactly as published, in
 * base64 (`encode(*, 'base64')`), beside the thing's address taken from the topic (which the
 * IoT policy ties to the thing's own attributes), the client id and the time the rules engine
 * saw it. The payload travels as base64 because AWS IoT SQL can add fields to `*` only for an
 * empty or JSON object payload; for any other payload such a statement fails to evaluate and
 * no action (nor errorAction) runs, so the message would be acknowledged and lost. Encoded,
 * every payload reaches the ingest function, which parses it (parseTelemetryPayload) and
 * dead-letters what is not a reading message (AWS IoT developer guide, "Working with binary
 * payloads": `SELECT encode(*, 'base64') AS data, timestamp() AS ts FROM ...`).
 *
 * Size: AWS IoT Core takes payloads of at most 128 KB (MAX_MESSAGE_BYTES); in base64 that is
 * 174,764 characters, so with the address the SQS message stays well below SQS's 256 KiB.
 */
export const IngestEnvelopeSchema = z
  .object({
    base64Payload: z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, { message: 'the payload in base64' }),
    building: z.string().min(1),
    zone: z.string().min(1),
    thing: z.string().min(1),
    clientId: z.string().optional(),
    receivedAt: z.number().optional(),
  })
  .passthrough();

/**
 * How deep a telemetry payload's JSON may nest. A reading message is 3 levels deep (object,
 * readings array, reading object); deeper payloads are refused before any validator walks them.
 */
export const MAX_PAYLOAD_DEPTH = 32;

const EXPECTED_MESSAGE =
  'expected a JSON object with readings, such as {"v":1,"readings":[{"ts":...,"seq":...,"temperature":...}]}';

export type ParsedTelemetryPayload =
  | { readonly ok: true; readonly message: Record<string, unknown> }
  | { readonly ok: false; readonly reason: string };

/**
 * Reads a published payload as the JSON object a reading message must be, or says what it is
 * instead: empty, binary (not UTF-8 text, or text with control characters), text that is not
 * JSON, JSON nested deeper than MAX_PAYLOAD_DEPTH, or JSON that is not an object. Whether the
 * object is a valid reading message is parseReadingMessage's question.
 */
export function parseTelemetryPayload(bytes: Uint8Array): ParsedTelemetryPayload {
  const size = `${bytes.length} byte${bytes.length === 1 ? '' : 's'}`;
  const refused = (what: string): ParsedTelemetryPayload => ({
    ok: false,
    reason: `payload: ${what}; ${EXPECTED_MESSAGE}`,
  });
  if (bytes.length === 0) return refused('empty (0 bytes)');
  const text = utf8Text(bytes);
  if (text === undefined || hasControlCharacters(text)) return refused(`not JSON (binary, ${size})`);
  const read = readJsonObject(text, size);
  return read.ok ? read : refused(read.what);
}

/**
 * Reads text as a JSON object nested at most MAX_PAYLOAD_DEPTH deep, or says what it is
 * instead (`what`, for a reason: "not JSON (...)", "JSON nested more than ...", "a JSON array").
 */
export function readJsonObject(
  text: string,
  size = `${text.length} characters`,
):
  | { readonly ok: true; readonly message: Record<string, unknown> }
  | { readonly ok: false; readonly what: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { ok: false, what: `not JSON (text, ${size}: ${(error as Error).message.slice(0, 120)})` };
  }
  if (nestingDepth(json, MAX_PAYLOAD_DEPTH) > MAX_PAYLOAD_DEPTH) {
    return {
      ok: false,
      what: `JSON nested more than ${MAX_PAYLOAD_DEPTH} levels deep (${size}); a reading message is 3 levels deep`,
    };
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    return { ok: false, what: jsonKind(json) };
  return { ok: true, message: json as Record<string, unknown> };
}

/** The text of UTF-8 bytes, or undefined when they are not valid UTF-8. */
export function utf8Text(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/** C0 control characters other than tab, line feed and carriage return, and DEL: not text. */
export function hasControlCharacters(text: string): boolean {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  return /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text);
}

function jsonKind(json: unknown): string {
  if (json === null) return 'JSON null';
  if (Array.isArray(json)) return 'a JSON array';
  return `a JSON ${typeof json}`;
}

export type IngestEnvelope = z.output<typeof IngestEnvelopeSchema>;

/** Multi-measure record layout in the telemetry table. */
export const READING_MEASURE_NAME = 'reading';
export const DIMENSIONS = ['building', 'zone', 'thing'] as const;
/** The per-thing sequence number is stored as a BIGINT measure beside the sensor values. */
export const SEQUENCE_MEASURE = 'seq';
