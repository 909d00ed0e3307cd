import { describe, expect, it } from 'vitest';
import { DeadLetterEntrySchema, MAX_PAYLOAD_DEPTH } from '../../contracts';
import {
  chunk,
  MAX_DEAD_LETTER_PAYLOAD_CHARS,
  parseIngestBody,
  planIngest,
} from '../../lambda/ingest/ingest';
import { envelopeBody, ingestBody, reading, TS } from './fixtures';

const msg = (id: string, body: string) => ({ id, body });

describe('parseIngestBody', () => {
  it('accepts a rule output with its address and readings', () => {
    const parsed = parseIngestBody(ingestBody({ readings: [reading(1), reading(2)] }));
    expect(parsed).toMatchObject({ ok: true, building: 'hq', zone: 'z1', thing: 'hq-t1' });
    expect(parsed.ok && parsed.valid.map((r) => r.seq)).toEqual([1, 2]);
  });

  it('rejects a body that is not JSON', () => {
    const parsed = parseIngestBody('{"v":1,');
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.reason).toMatch(
      /the queue message is not the ingest rule's output .*: not JSON/,
    );
  });

  it('refuses, without walking it, a queue message nested 60,000 deep, whole or in a field', () => {
    const deep = `${'['.repeat(60_000)}${']'.repeat(60_000)}`;
    for (const body of [deep, `{"building":${deep},"zone":"z1","thing":"hq-t1","base64Payload":""}`]) {
      const parsed = parseIngestBody(body);
      expect(parsed.ok).toBe(false);
      expect(!parsed.ok && parsed.reason).toMatch(/not the ingest rule's output .*nested more than/);
    }
  });

  it('rejects a message without the address the rule adds', () => {
    const parsed = parseIngestBody(JSON.stringify({ v: 1, readings: [reading(1)] }));
    expect(!parsed.ok && parsed.reason).toMatch(/building/);
  });

  it('rejects a message with the wrong contract version', () => {
    const parsed = parseIngestBody(
      envelopeBody(Buffer.from(JSON.stringify({ v: 2, readings: [reading(1)] }))),
    );
    expect(!parsed.ok && parsed.reason).toMatch(/contract version 1/);
  });

  it("reads the earlier rule's output (the message's fields beside the address) as before", () => {
    const legacy = JSON.stringify({
      v: 1,
      readings: [reading(1)],
      building: 'hq',
      zone: 'z1',
      thing: 'hq-t1',
    });
    const parsed = parseIngestBody(legacy);
    expect(parsed).toMatchObject({ ok: true, building: 'hq', zone: 'z1', thing: 'hq-t1' });
    expect(parsed.ok && parsed.valid.map((r) => r.seq)).toEqual([1]);
  });

  it('rejects a base64Payload that is not base64, naming the field', () => {
    const body = JSON.stringify({ base64Payload: 'not base64!', building: 'hq', zone: 'z1', thing: 'hq-t1' });
    expect(parseIngestBody(body)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/base64Payload/),
    });
  });

  it('keeps the good readings of a message that also holds a bad one', () => {
    const parsed = parseIngestBody(ingestBody({ readings: [reading(1), { ts: TS, seq: 2 }, reading(3)] }));
    expect(parsed.ok && parsed.valid.map((r) => r.seq)).toEqual([1, 3]);
    expect(parsed.ok && parsed.invalid).toHaveLength(1);
  });
});

/**
 * Payloads a broken or hostile device publishes on its telemetry topic. Each must reach the
 * dead-letter queue as INVALID_MESSAGE with what is wrong and the payload as published.
 */
const DEEP = `${'['.repeat(60_000)}${']'.repeat(60_000)}`;
const MALFORMED: ReadonlyArray<{
  kind: string;
  payload: Buffer;
  reason: RegExp;
  kept: { payload: string; payloadEncoding: 'text' | 'base64' };
}> = [
  {
    kind: 'binary bytes',
    payload: Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x02, 0xff, 0xfe, 0x80, 0x7f, 0x10]),
    reason: /^payload: not JSON \(binary, 12 bytes\); expected a JSON object with readings/,
    kept: { payload: '3q2+7wABAv/+gH8Q', payloadEncoding: 'base64' },
  },
  {
    kind: 'an empty payload',
    payload: Buffer.alloc(0),
    reason: /^payload: empty \(0 bytes\); expected a JSON object with readings/,
    kept: { payload: '', payloadEncoding: 'text' },
  },
  {
    kind: 'a JSON string',
    payload: Buffer.from('"hello"'),
    reason: /^payload: a JSON string; expected a JSON object with readings/,
    kept: { payload: '"hello"', payloadEncoding: 'text' },
  },
  {
    kind: 'a JSON number',
    payload: Buffer.from('42'),
    reason: /^payload: a JSON number; expected a JSON object/,
    kept: { payload: '42', payloadEncoding: 'text' },
  },
  {
    kind: 'a JSON array',
    payload: Buffer.from('[{"ts":1,"seq":1}]'),
    reason: /^payload: a JSON array; expected a JSON object/,
    kept: { payload: '[{"ts":1,"seq":1}]', payloadEncoding: 'text' },
  },
  {
    kind: 'JSON null',
    payload: Buffer.from('null'),
    reason: /^payload: JSON null; expected a JSON object/,
    kept: { payload: 'null', payloadEncoding: 'text' },
  },
  {
    kind: '60,000 nested arrays',
    payload: Buffer.from(DEEP),
    reason: new RegExp(`^payload: JSON nested more than ${MAX_PAYLOAD_DEPTH} levels deep \\(120000 bytes\\)`),
    kept: {
      payload: `${DEEP.slice(0, MAX_DEAD_LETTER_PAYLOAD_CHARS)}...[truncated]`,
      payloadEncoding: 'text',
    },
  },
  {
    kind: 'invalid UTF-8',
    payload: Buffer.from([0x7b, 0x22, 0x76, 0x22, 0x3a, 0xc3, 0x28, 0x7d]),
    reason: /^payload: not JSON \(binary, 8 bytes\)/,
    kept: { payload: 'eyJ2IjrDKH0=', payloadEncoding: 'base64' },
  },
  {
    kind: 'text that is not JSON',
    payload: Buffer.from('temperature=21.5'),
    reason: /^payload: not JSON \(text, 16 bytes: .+\); expected a JSON object/,
    kept: { payload: 'temperature=21.5', payloadEncoding: 'text' },
  },
  {
    kind: 'a JSON object without readings',
    payload: Buffer.from('{"v":1,"temperature":21.5}'),
    reason: /^message: readings: got nothing \(field missing\)/,
    kept: { payload: '{"v":1,"temperature":21.5}', payloadEncoding: 'text' },
  },
];

describe('malformed payloads', () => {
  for (const m of MALFORMED) {
    it(`dead-letters ${m.kind} as INVALID_MESSAGE with the reason and the payload as published`, () => {
      const plan = planIngest([msg('a', envelopeBody(m.payload))], TS, 'hq');
      expect(plan.records).toEqual([]);
      expect(plan.deadLetters).toHaveLength(1);
      const entry = DeadLetterEntrySchema.parse(plan.deadLetters[0]!.entry);
      expect(entry).toMatchObject({
        code: 'INVALID_MESSAGE',
        building: 'hq',
        zone: 'z1',
        thing: 'hq-t1',
        readings: [],
        payloadBytes: m.payload.length,
        ...m.kept,
      });
      expect(entry.reason).toMatch(m.reason);
    });
  }

  it('keeps a long binary payload as base64 that decodes to its first bytes, marked as cut', () => {
    const payload = Buffer.alloc(128 * 1024, 0xff);
    const entry = planIngest([msg('a', envelopeBody(payload))], TS).deadLetters[0]!.entry;
    expect(entry).toMatchObject({
      payloadEncoding: 'base64',
      payloadBytes: payload.length,
      payloadTruncated: true,
    });
    const kept = Buffer.from(entry.payload!, 'base64');
    expect(kept.length).toBeGreaterThan(40_000);
    expect(payload.subarray(0, kept.length).equals(kept)).toBe(true);
    expect(JSON.stringify(entry).length).toBeLessThan(MAX_DEAD_LETTER_PAYLOAD_CHARS + 1024);
  });

  it('keeps text with control characters as base64, so its entry cannot grow by escaping', () => {
    const payload = Buffer.alloc(MAX_DEAD_LETTER_PAYLOAD_CHARS, 0x01);
    const entry = planIngest([msg('a', envelopeBody(payload))], TS).deadLetters[0]!.entry;
    expect(entry.payloadEncoding).toBe('base64');
    expect(JSON.stringify(entry).length).toBeLessThan(MAX_DEAD_LETTER_PAYLOAD_CHARS + 1024);
  });
});

describe('planIngest', () => {
  it('dead-letters a message of another building whole and stores none of its readings', () => {
    const plan = planIngest(
      [
        msg(
          'a',
          ingestBody({ building: 'site-b', thing: 'site-b-f1-climate', readings: [reading(1), reading(2)] }),
        ),
        msg('b', ingestBody({ thing: 'hq-lobby-climate', readings: [reading(1)] })),
      ],
      TS,
      'hq',
    );
    expect(plan.records.map((r) => r.messageId)).toEqual(['b']);
    expect(plan.deadLetters).toHaveLength(1);
    expect(plan.deadLetters[0]?.entry).toMatchObject({
      code: 'FOREIGN_BUILDING',
      building: 'site-b',
      thing: 'site-b-f1-climate',
    });
    expect(plan.deadLetters[0]?.entry.reason).toContain("building 'site-b'");
    expect(plan.deadLetters[0]?.entry.readings).toHaveLength(2);
    expect(plan.received).toBe(3);
    expect(plan.invalid).toBe(2);
  });

  it("dead-letters a message of this building from a thing without the building's name prefix", () => {
    const plan = planIngest(
      [msg('a', ingestBody({ thing: 'lobby-climate', readings: [reading(1)] }))],
      TS,
      'hq',
    );
    expect(plan.records).toHaveLength(0);
    expect(plan.deadLetters[0]?.entry.code).toBe('FOREIGN_BUILDING');
    expect(plan.deadLetters[0]?.entry.reason).toContain("not named 'hq-...'");
  });

  it('gathers the readings of all messages in message order', () => {
    const plan = planIngest(
      [
        msg('a', ingestBody({ thing: 'hq-t1', readings: [reading(1), reading(2)] })),
        msg('b', ingestBody({ thing: 'hq-t2', readings: [reading(1)] })),
      ],
      TS,
    );
    expect(plan.records.map((r) => [r.messageId, r.record.thing, r.record.reading.seq])).toEqual([
      ['a', 'hq-t1', 1],
      ['a', 'hq-t1', 2],
      ['b', 'hq-t2', 1],
    ]);
    expect(plan.received).toBe(3);
  });

  it('drops a reading whose thing and sequence number came earlier in the batch', () => {
    const plan = planIngest(
      [
        msg('a', ingestBody({ thing: 'hq-t1', readings: [reading(1), reading(2)] })),
        msg('b', ingestBody({ thing: 'hq-t1', readings: [reading(2), reading(3)] })),
      ],
      TS,
    );
    expect(plan.records.map((r) => `${r.messageId}:${r.record.reading.seq}`)).toEqual(['a:1', 'a:2', 'b:3']);
    expect(plan.duplicates).toBe(1);
  });

  it('keeps equal sequence numbers of different things', () => {
    const plan = planIngest(
      [
        msg('a', ingestBody({ thing: 'hq-t1', readings: [reading(1)] })),
        msg('b', ingestBody({ thing: 'hq-t2', readings: [reading(1)] })),
      ],
      TS,
    );
    expect(plan.records).toHaveLength(2);
    expect(plan.duplicates).toBe(0);
  });

  it('dead-letters a bad message whole as INVALID_MESSAGE with its raw body', () => {
    const plan = planIngest([msg('a', 'not json')], TS);
    expect(plan.records).toEqual([]);
    expect(plan.deadLetters).toHaveLength(1);
    const { messageId, entry } = plan.deadLetters[0]!;
    expect(messageId).toBe('a');
    expect(DeadLetterEntrySchema.parse(entry)).toMatchObject({
      code: 'INVALID_MESSAGE',
      payload: 'not json',
      readings: [],
    });
  });

  it('names the address of a bad message when its body carries one', () => {
    const plan = planIngest([msg('a', envelopeBody(Buffer.from('{"v":9}')))], TS);
    expect(plan.deadLetters[0]?.entry).toMatchObject({ building: 'hq', zone: 'z1', thing: 'hq-t1' });
  });

  it('cuts a very long raw body in its dead-letter entry', () => {
    const plan = planIngest([msg('a', 'x'.repeat(MAX_DEAD_LETTER_PAYLOAD_CHARS + 100))], TS);
    expect(plan.deadLetters[0]?.entry.payload?.length).toBeLessThan(MAX_DEAD_LETTER_PAYLOAD_CHARS + 20);
  });

  it('dead-letters the invalid readings of a message in one INVALID_READING entry with the reasons', () => {
    const plan = planIngest(
      [msg('a', ingestBody({ readings: [{ ts: TS, seq: 1 }, reading(2), { ts: TS, seq: 3, co2: -5 }] }))],
      TS,
    );
    expect(plan.records).toHaveLength(1);
    expect(plan.deadLetters).toHaveLength(1);
    const entry = DeadLetterEntrySchema.parse(plan.deadLetters[0]?.entry);
    expect(entry.code).toBe('INVALID_READING');
    expect(entry.readings).toEqual([
      { ts: TS, seq: 1 },
      { ts: TS, seq: 3, co2: -5 },
    ]);
    expect(entry.reason).toMatch(/readings\[0\]/);
    expect(entry.reason).toMatch(/readings\[2\].*co2/);
    expect(plan.invalid).toBe(2);
  });
});

describe('chunk', () => {
  it('splits 250 items into chunks of 100, 100 and 50', () => {
    const parts = chunk(
      Array.from({ length: 250 }, (_, i) => i),
      100,
    );
    expect(parts.map((p) => p.length)).toEqual([100, 100, 50]);
    expect(parts.flat()).toHaveLength(250);
  });

  it('returns no chunk for no items', () => {
    expect(chunk([], 100)).toEqual([]);
  });

  it('fails on a chunk size below one', () => {
    expect(() => chunk([1], 0)).toThrow(RangeError);
  });
});
