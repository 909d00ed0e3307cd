import { describe, expect, it } from 'vitest';
import {
  controlRule,
  IngestEnvelopeSchema,
  ingestRule,
  MAX_MESSAGE_BYTES,
  ReadingMessageSchema,
  TELEMETRY_VERSION,
  telemetryTopic,
} from '../../../contracts';
import { compileRule } from '../../../local/rules/sql';
import { SqlEvaluationError } from '../../../local/rules/sql/evaluator';
import { ACCOUNT } from './helpers';

const CONTROL_RULE = controlRule('hq');
const INGEST_RULE = ingestRule('hq');

const address = { building: 'hq', zone: 'floor-1-east', thing: 'sensor-07' };
const reading = {
  v: TELEMETRY_VERSION,
  readings: [{ ts: 1_763_900_000_000, seq: 41, temperature: 21.4, humidity: 40.2, co2: 612 }],
};
const message = (payload: unknown, topic = telemetryTopic(address)) => ({
  topic,
  payload: Buffer.isBuffer(payload) ? payload : Buffer.from(JSON.stringify(payload)),
  clientId: address.thing,
  principal: 'c'.repeat(64),
  timestamp: 1_763_900_000_500,
});

/** What a broken or hostile device may publish on its telemetry topic. */
const MALFORMED: ReadonlyArray<readonly [string, Buffer]> = [
  ['binary bytes', Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x02, 0xff])],
  ['an empty payload', Buffer.alloc(0)],
  ['a JSON string', Buffer.from('"hello"')],
  ['a JSON number', Buffer.from('42')],
  ['a JSON array', Buffer.from('[1,2,3]')],
  ['60,000 nested arrays', Buffer.from(`${'['.repeat(60_000)}${']'.repeat(60_000)}`)],
  ['invalid UTF-8', Buffer.from([0x7b, 0xc3, 0x28, 0x7d])],
  ['a JSON object without readings', Buffer.from('{"v":1}')],
];

describe('INGEST_RULE', () => {
  const rule = compileRule(INGEST_RULE.sql, INGEST_RULE.awsIotSqlVersion);

  it('matches the telemetry topic of every thing', () => {
    expect(rule.matchesTopic(telemetryTopic(address))).toBe(true);
    expect(rule.matchesTopic('dt/zonectl/hq/floor-1-east/sensor-07/other')).toBe(false);
  });

  it('passes the whole payload in base64 plus its address, client id and receive time', () => {
    const result = rule.evaluate(message(reading), { accountId: ACCOUNT });
    expect(result.matched).toBe(true);
    expect(result.output).toEqual({
      base64Payload: Buffer.from(JSON.stringify(reading)).toString('base64'),
      ...address,
      clientId: address.thing,
      receivedAt: 1_763_900_000_500,
    });
  });

  it('produces output the ingest envelope schema accepts, carrying the reading message', () => {
    const { output } = rule.evaluate(message(reading), { accountId: ACCOUNT });
    const envelope = IngestEnvelopeSchema.parse(output);
    const published = JSON.parse(Buffer.from(envelope.base64Payload, 'base64').toString('utf8'));
    expect(ReadingMessageSchema.safeParse(published).success).toBe(true);
  });

  it('forwards an invalid reading message too, so the ingest function can dead-letter it', () => {
    expect(rule.evaluate(message({ junk: true }), { accountId: ACCOUNT }).matched).toBe(true);
  });

  for (const [kind, payload] of MALFORMED) {
    it(`forwards ${kind} byte for byte, so the ingest function can dead-letter it`, () => {
      const result = rule.evaluate(message(payload), { accountId: ACCOUNT });
      expect(result.matched).toBe(true);
      const envelope = IngestEnvelopeSchema.parse(result.output);
      expect(Buffer.from(envelope.base64Payload, 'base64').equals(payload)).toBe(true);
      expect(envelope).toMatchObject({ ...address, clientId: address.thing });
    });
  }

  it('keeps the largest payload AWS IoT takes (128 KB) well inside one SQS message (256 KiB)', () => {
    const payload = Buffer.alloc(MAX_MESSAGE_BYTES, 0xff);
    const { output } = rule.evaluate(message(payload), { accountId: ACCOUNT });
    const body = JSON.stringify(output);
    expect(Buffer.byteLength(body)).toBeLessThan(256 * 1024 - 8 * 1024);
  });
});

describe('CONTROL_RULE', () => {
  const rule = compileRule(CONTROL_RULE.sql, CONTROL_RULE.awsIotSqlVersion);

  it('selects the address and the readings of a reading message', () => {
    const result = rule.evaluate(message(reading), { accountId: ACCOUNT });
    expect(result).toMatchObject({ matched: true, output: { ...address, readings: reading.readings } });
  });

  it('does not match a message without readings', () => {
    expect(rule.evaluate(message({ v: 1 }), { accountId: ACCOUNT }).matched).toBe(false);
  });

  for (const [kind, payload] of MALFORMED) {
    it(`simply does not match ${kind}: no control event, no evaluation error`, () => {
      expect(rule.evaluate(message(payload), { accountId: ACCOUNT })).toMatchObject({ matched: false });
    });
  }

  it('fails with an evaluation error naming the cause, not a stack overflow, on readings nested 60,000 deep', () => {
    const payload = Buffer.from(`{"readings":${'['.repeat(60_000)}${']'.repeat(60_000)}}`);
    expect(() => rule.evaluate(message(payload), { accountId: ACCOUNT })).toThrow(SqlEvaluationError);
    expect(() => rule.evaluate(message(payload), { accountId: ACCOUNT })).toThrow(/nested too deeply/);
  });
});
