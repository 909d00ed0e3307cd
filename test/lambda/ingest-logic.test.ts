import { describe, expect, it } from 'vitest';
import { DeadLetterEntrySchema } from '../../contracts';
import {
  chunk,
  MAX_DEAD_LETTER_PAYLOAD_CHARS,
  parseIngestBody,
  planIngest,
} from '../../lambda/ingest/ingest';
import { ingestBody, reading, TS } from './fixtures';

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
    expect(!parsed.ok && parsed.reason).toMatch(/not valid JSON/);
  });

  it('rejects a message without the address the rule adds', () => {
    const parsed = parseIngestBody(JSON.stringify({ v: 1, readings: [reading(1)] }));
    expect(!parsed.ok && parsed.reason).toMatch(/building/);
  });

  it('rejects a message with the wrong contract version', () => {
    const body = JSON.parse(ingestBody({ readings: [reading(1)] }));
    const parsed = parseIngestBody(JSON.stringify({ ...body, v: 2 }));
    expect(!parsed.ok && parsed.reason).toMatch(/contract version 1/);
  });

  it('keeps the good readings of a message that also holds a bad one', () => {
    const parsed = parseIngestBody(ingestBody({ readings: [reading(1), { ts: TS, seq: 2 }, reading(3)] }));
    expect(parsed.ok && parsed.valid.map((r) => r.seq)).toEqual([1, 3]);
    expect(parsed.ok && parsed.invalid).toHaveLength(1);
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
    const plan = planIngest(
      [msg('a', JSON.stringify({ building: 'hq', zone: 'z1', thing: 'hq-t1', v: 9 }))],
      TS,
    );
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
