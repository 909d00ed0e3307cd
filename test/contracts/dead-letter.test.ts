import { describe, expect, it } from 'vitest';
import {
  CONTROL_EVENT_KIND,
  DEAD_LETTER_KIND,
  deadLetteredReadingCount,
  describeDeadLetter,
  keptPayload,
  ruleName,
} from '../../contracts';

const at = Date.UTC(2026, 10, 23, 12);

const ingestEntry = (reason: string, readings: unknown[]) =>
  JSON.stringify({
    kind: DEAD_LETTER_KIND,
    code: 'INVALID_READING',
    reason,
    thing: 'hq-lobby-climate',
    readings,
    at,
  });

const ruleError = (readings: unknown[], rule = 'zonectl_hq_ingest') =>
  JSON.stringify({
    ruleName: rule,
    topic: 'dt/zonectl/hq/lobby/hq-lobby-climate/readings',
    base64OriginalPayload: Buffer.from(JSON.stringify({ v: 1, readings })).toString('base64'),
    failures: [{ failedAction: 'SqsAction', errorMessage: 'queue does not exist' }],
  });

describe('dead-letter accounting', () => {
  it('counts the readings of an ingest dead-letter entry', () => {
    expect(deadLetteredReadingCount(ingestEntry('x', [{}, {}]))).toBe(2);
  });

  it('counts the readings inside a rule error payload', () => {
    expect(deadLetteredReadingCount(ruleError([{}, {}, {}]))).toBe(3);
  });

  it('counts a redriven ingest-rule output by the readings of the payload it carries in base64', () => {
    const payload = Buffer.from(JSON.stringify({ v: 1, readings: [{ ts: 5 }, { ts: 9 }] }));
    const body = JSON.stringify({
      base64Payload: payload.toString('base64'),
      building: 'hq',
      zone: 'z',
      thing: 't',
    });
    expect(describeDeadLetter(body)).toMatchObject({ origin: 'redrive', readings: 2, readingsAt: 9 });
  });

  it('counts no readings for a redriven ingest-rule output whose payload is not a reading message', () => {
    for (const payload of [Buffer.from([0xff, 0x00]), Buffer.alloc(0), Buffer.from('"hello"')]) {
      const body = JSON.stringify({
        base64Payload: payload.toString('base64'),
        building: 'hq',
        zone: 'z',
        thing: 't',
      });
      expect(describeDeadLetter(body)).toMatchObject({ origin: 'redrive', readings: 0 });
    }
  });

  it('describes an INVALID_MESSAGE entry that keeps a binary payload in base64', () => {
    const body = JSON.stringify({
      kind: DEAD_LETTER_KIND,
      code: 'INVALID_MESSAGE',
      reason: 'payload: not JSON (binary, 2 bytes); expected a JSON object with readings',
      thing: 't',
      readings: [],
      payload: '/wA=',
      payloadEncoding: 'base64',
      payloadBytes: 2,
      at,
    });
    expect(describeDeadLetter(body)).toMatchObject({
      origin: 'ingest',
      reason: 'INVALID_MESSAGE: payload: not JSON (binary, 2 bytes); expected a JSON object with readings',
      readings: 0,
    });
  });

  it('groups malformed payloads of any size under one summary per kind', () => {
    const entry = (reason: string) =>
      JSON.stringify({ kind: DEAD_LETTER_KIND, code: 'INVALID_MESSAGE', reason, readings: [], at });
    const summary = (reason: string) => describeDeadLetter(entry(reason)).summary;
    expect(summary('payload: not JSON (binary, 12 bytes); expected a JSON object')).toBe(
      summary('payload: not JSON (binary, 1 byte); expected a JSON object'),
    );
    expect(summary('payload: not JSON (binary, 12 bytes); expected a JSON object')).toMatch(
      /^INVALID_MESSAGE: payload: not JSON \(binary\); expected/,
    );
    expect(summary("payload: not JSON (text, 5 bytes: Unexpected token 'h'); expected x")).toBe(
      'INVALID_MESSAGE: payload: not JSON (text); expected x',
    );
    expect(summary('payload: empty (0 bytes); expected x')).toBe(
      'INVALID_MESSAGE: payload: empty; expected x',
    );
    expect(summary('payload: JSON nested more than 32 levels deep (120000 bytes); a reading')).toBe(
      'INVALID_MESSAGE: payload: JSON nested more than 32 levels deep; a reading',
    );
  });

  it('counts a redriven ingest message by its readings', () => {
    expect(deadLetteredReadingCount(JSON.stringify({ v: 1, readings: [{}], building: 'hq' }))).toBe(1);
  });

  it('counts no readings for the control path, whose readings the ingest path accounts for', () => {
    expect(deadLetteredReadingCount(ruleError([{}, {}], ruleName('hq', 'control')))).toBe(0);
    const controlEvent = {
      kind: CONTROL_EVENT_KIND,
      building: 'hq',
      zone: 'lobby',
      thing: 't',
      readings: [{}],
    };
    expect(deadLetteredReadingCount(JSON.stringify(controlEvent))).toBe(0);
  });

  it('counts nothing for a rule error whose original payload is not JSON', () => {
    const body = JSON.stringify({
      ruleName: 'r',
      topic: 't',
      base64OriginalPayload: Buffer.from('not json').toString('base64'),
      failures: [{ failedAction: 'SqsAction', errorMessage: 'boom' }],
    });
    expect(deadLetteredReadingCount(body)).toBe(0);
  });
});

describe('dead-letter description', () => {
  it('describes an ingest entry with its code, thing and time', () => {
    const letter = describeDeadLetter(
      ingestEntry('readings[3]: humidity: got 140; expected a humidity of at most 100 percentRH', [{}]),
    );
    expect(letter).toEqual({
      origin: 'ingest',
      source: 'ingest',
      reason: 'INVALID_READING: readings[3]: humidity: got 140; expected a humidity of at most 100 percentRH',
      summary: 'INVALID_READING: reading: humidity: expected a humidity of at most 100 percentRH',
      readings: 1,
      at,
      thing: 'hq-lobby-climate',
    });
  });

  it('gives alike ingest refusals of different readings and values one summary', () => {
    const a = describeDeadLetter(
      ingestEntry('readings[0]: co2: got -5; expected a co2 of at least 0 ppm', []),
    );
    const b = describeDeadLetter(
      ingestEntry('readings[7]: co2: got -9; expected a co2 of at least 0 ppm', []),
    );
    expect(a.summary).toBe(b.summary);
  });

  it('describes a rule error payload by its rule and failed actions', () => {
    expect(describeDeadLetter(ruleError([{}]))).toEqual({
      origin: 'rule',
      source: 'rule zonectl_hq_ingest',
      reason: 'SqsAction: queue does not exist',
      summary: 'rule zonectl_hq_ingest action failed',
      readings: 1,
    });
  });

  it('describes a control event redriven after repeated controller failures as the control path, with its thing', () => {
    const body = JSON.stringify({
      kind: CONTROL_EVENT_KIND,
      building: 'hq',
      zone: 'lobby',
      thing: 'hq-lobby-climate',
      readings: [{}, {}],
    });
    expect(describeDeadLetter(body)).toEqual({
      origin: 'control',
      source: 'control',
      reason:
        'the zone controller kept failing on a control event of zone lobby (2 readings, stored by the ingest path)',
      summary: 'control event the zone controller kept failing on',
      readings: 0,
      thing: 'hq-lobby-climate',
    });
  });

  it('describes a failed action of the control rule as the control path', () => {
    expect(describeDeadLetter(ruleError([{}], 'zonectl_hq_control'))).toMatchObject({
      origin: 'control',
      source: 'rule zonectl_hq_control',
      readings: 0,
    });
  });

  it('describes any other JSON as an ingest message redriven after repeated failures', () => {
    expect(describeDeadLetter(JSON.stringify({ v: 1, readings: [{}, {}], building: 'hq' }))).toEqual({
      origin: 'redrive',
      source: 'redrive',
      reason: 'message retried too often (2 readings)',
      summary: 'redriven after repeated ingest failures',
      readings: 2,
    });
  });

  it('fails soft on a body that is not JSON: unreadable, no readings, the start of the body as reason', () => {
    const letter = describeDeadLetter(`not json ${'x'.repeat(200)}`);
    expect(letter).toMatchObject({ origin: 'unreadable', source: 'unknown', readings: 0 });
    expect(letter.reason).toHaveLength(120);
  });
});

describe('when a dead letter is from', () => {
  const ts = Date.UTC(2026, 10, 23, 7, 30);

  it("dates an ingest entry by its newest reading, on the building's clock, beside when it was written", () => {
    const d = describeDeadLetter(ingestEntry('x', [{ ts: ts - 60_000 }, { ts }, { ts: 'soon' }]));
    expect(d.readingsAt).toBe(ts);
    expect(d.at).toBe(at);
  });

  it('dates a rule error by the readings of its original message', () => {
    expect(describeDeadLetter(ruleError([{ ts }, { ts: ts - 1 }])).readingsAt).toBe(ts);
  });

  it('leaves the date out when no reading carries one', () => {
    expect(describeDeadLetter(ingestEntry('x', [{}])).readingsAt).toBeUndefined();
    expect(describeDeadLetter('not json').readingsAt).toBeUndefined();
  });
});

describe('keptPayload', () => {
  it('keeps UTF-8 text as text, with its size', () => {
    expect(keptPayload(Buffer.from('héllo'))).toEqual({
      payload: 'héllo',
      payloadEncoding: 'text',
      payloadBytes: 6,
    });
  });

  it('keeps bytes that are not text as base64', () => {
    expect(keptPayload(Buffer.from([0xff, 0x00]))).toEqual({
      payload: '/wA=',
      payloadEncoding: 'base64',
      payloadBytes: 2,
    });
  });

  it('cuts both kinds to the limit and says so', () => {
    expect(keptPayload(Buffer.from('x'.repeat(20)), 8)).toEqual({
      payload: 'xxxxxxxx...[truncated]',
      payloadEncoding: 'text',
      payloadBytes: 20,
      payloadTruncated: true,
    });
    const cut = keptPayload(Buffer.alloc(20, 0xff), 8);
    expect(cut).toMatchObject({ payloadEncoding: 'base64', payloadBytes: 20, payloadTruncated: true });
    expect(Buffer.from(cut.payload!, 'base64')).toEqual(Buffer.alloc(6, 0xff));
  });
});
