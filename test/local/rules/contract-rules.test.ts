import { describe, expect, it } from 'vitest';
import {
  controlRule,
  IngestEnvelopeSchema,
  ingestRule,
  ReadingMessageSchema,
  TELEMETRY_VERSION,
  telemetryTopic,
} from '../../../contracts';
import { compileRule } from '../../../local/rules/sql';
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
  payload: Buffer.from(JSON.stringify(payload)),
  clientId: address.thing,
  principal: 'c'.repeat(64),
  timestamp: 1_763_900_000_500,
});

describe('INGEST_RULE', () => {
  const rule = compileRule(INGEST_RULE.sql, INGEST_RULE.awsIotSqlVersion);

  it('matches the telemetry topic of every thing', () => {
    expect(rule.matchesTopic(telemetryTopic(address))).toBe(true);
    expect(rule.matchesTopic('dt/zonectl/hq/floor-1-east/sensor-07/other')).toBe(false);
  });

  it('passes the whole reading message plus its address, client id and receive time', () => {
    const result = rule.evaluate(message(reading), { accountId: ACCOUNT });
    expect(result.matched).toBe(true);
    expect(result.output).toEqual({
      ...reading,
      ...address,
      clientId: address.thing,
      receivedAt: 1_763_900_000_500,
    });
  });

  it('produces output the ingest envelope schema accepts', () => {
    const { output } = rule.evaluate(message(reading), { accountId: ACCOUNT });
    expect(IngestEnvelopeSchema.safeParse(output).success).toBe(true);
    expect(ReadingMessageSchema.safeParse(output).success).toBe(true);
  });

  it('forwards an invalid reading message too, so the ingest function can dead-letter it', () => {
    expect(rule.evaluate(message({ junk: true }), { accountId: ACCOUNT }).matched).toBe(true);
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
});
