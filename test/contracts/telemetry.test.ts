import { describe, expect, it } from 'vitest';
import {
  checkCommand,
  MAX_PAYLOAD_DEPTH,
  parseReadingMessage,
  parseTelemetryPayload,
  parseTelemetryTopic,
  telemetryTopic,
  telemetryTopicFilter,
} from '../../contracts';

const ts = Date.UTC(2026, 10, 23, 12);

describe('telemetry topic', () => {
  it('round-trips an address through the topic', () => {
    const address = { building: 'hq', zone: 'lobby', thing: 'hq-lobby-climate' };
    expect(parseTelemetryTopic(telemetryTopic(address))).toEqual(address);
  });

  it('has at most 7 slashes as AWS IoT requires', () => {
    expect(telemetryTopicFilter('hq').split('/').length - 1).toBeLessThanOrEqual(7);
  });

  it("names its building in the topic filter, so one building's rules never see another's", () => {
    expect(telemetryTopicFilter('hq')).toBe('dt/zonectl/hq/+/+/readings');
  });

  it('does not parse a topic of another shape', () => {
    expect(parseTelemetryTopic('dt/zonectl/hq/lobby/readings')).toBeUndefined();
  });
});

describe('reading message', () => {
  it('accepts a batch of timestamped readings', () => {
    const parsed = parseReadingMessage({
      v: 1,
      readings: [
        { ts, seq: 1, temperature: 21.5, humidity: 40 },
        { ts: ts + 1000, seq: 2, co2: 650 },
      ],
    });
    expect(parsed).toMatchObject({ ok: true, invalid: [] });
    expect(parsed.ok && parsed.valid).toHaveLength(2);
  });

  it('keeps good readings when one reading is bad', () => {
    const parsed = parseReadingMessage({
      v: 1,
      readings: [
        { ts, seq: 1, temperature: 21 },
        { seq: 2, co2: 1 },
      ],
    });
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.valid).toHaveLength(1);
    expect(parsed.invalid[0]?.reason).toContain('readings[1]: ts: got nothing (field missing)');
  });

  it('rejects a reading without any measure', () => {
    const parsed = parseReadingMessage({ v: 1, readings: [{ ts, seq: 1 }] });
    expect(parsed.ok && parsed.invalid[0]?.reason).toContain('at least one measure');
  });

  it('rejects an out-of-range measure naming the limit', () => {
    const parsed = parseReadingMessage({ v: 1, readings: [{ ts, seq: 1, humidity: 140 }] });
    expect(parsed.ok && parsed.invalid[0]?.reason).toContain('at most 100 percentRH');
  });

  it('rejects a fractional occupancy', () => {
    const parsed = parseReadingMessage({ v: 1, readings: [{ ts, seq: 1, occupancy: 2.5 }] });
    expect(parsed.ok && parsed.invalid[0]?.reason).toContain('whole number of people');
  });

  it('rejects a message of an unknown contract version as a whole', () => {
    const parsed = parseReadingMessage({ v: 2, readings: [{ ts, seq: 1, co2: 500 }] });
    expect(parsed).toMatchObject({ ok: false });
  });

  it('rejects more than 100 readings in one message', () => {
    const readings = Array.from({ length: 101 }, (_, i) => ({ ts, seq: i, co2: 500 }));
    expect(parseReadingMessage({ v: 1, readings })).toMatchObject({ ok: false });
  });
});

describe('command shadow contract', () => {
  it('accepts a lighting level for a device that drives lighting', () => {
    expect(checkCommand('lighting', 60, ['lighting'])).toEqual({ ok: true, kind: 'lighting', value: 60 });
  });

  it('refuses an out-of-range lighting level with the reason', () => {
    const check = checkCommand('lighting', 150, ['lighting']);
    expect(check.ok).toBe(false);
    expect(!check.ok && check.reason).toContain('at most 100');
  });

  it('refuses an unknown actuator', () => {
    expect(checkCommand('turbo', true, ['heating'])).toMatchObject({ ok: false, key: 'turbo' });
  });

  it('refuses a command for an actuator the device does not drive', () => {
    const check = checkCommand('heating', 'on', ['lighting']);
    expect(!check.ok && check.reason).toContain('does not drive heating');
  });
});

describe('parseTelemetryPayload', () => {
  it('gives the JSON object of a reading message', () => {
    const parsed = parseTelemetryPayload(Buffer.from('{"v":1,"readings":[{"ts":1,"seq":1}]}'));
    expect(parsed).toEqual({ ok: true, message: { v: 1, readings: [{ ts: 1, seq: 1 }] } });
  });

  it.each([
    ['empty', Buffer.alloc(0), /^payload: empty \(0 bytes\)/],
    ['binary', Buffer.from([0xff, 0xfe, 0x00]), /^payload: not JSON \(binary, 3 bytes\)/],
    ['UTF-8 with control characters', Buffer.from('{\u0001}'), /^payload: not JSON \(binary, 3 bytes\)/],
    ['text', Buffer.from('hello'), /^payload: not JSON \(text, 5 bytes: .+\)/],
    ['a JSON string', Buffer.from('"hello"'), /^payload: a JSON string;/],
    ['a JSON boolean', Buffer.from('true'), /^payload: a JSON boolean;/],
    ['a JSON array', Buffer.from('[]'), /^payload: a JSON array;/],
    [
      'nested too deep',
      Buffer.from(`{"a":${'['.repeat(MAX_PAYLOAD_DEPTH)}${']'.repeat(MAX_PAYLOAD_DEPTH)}}`),
      /^payload: JSON nested more than 32 levels deep/,
    ],
  ])('refuses %s, saying what it is and what is expected', (_kind, payload, reason) => {
    const parsed = parseTelemetryPayload(payload);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.reason).toMatch(reason);
    expect(!parsed.ok && parsed.reason).toMatch(/expected a JSON object with readings/);
  });

  it('takes JSON nested exactly as deep as allowed', () => {
    const depth = MAX_PAYLOAD_DEPTH - 1;
    expect(parseTelemetryPayload(Buffer.from(`{"a":${'['.repeat(depth)}${']'.repeat(depth)}}`)).ok).toBe(
      true,
    );
  });
});
