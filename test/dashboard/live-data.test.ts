/**
 * What the dashboard reads as it happens, on one clock: live events from the message bus dated
 * on the building's clock, and the dead-letter queue read whole, without consuming it, newest
 * first.
 */
import { ChangeMessageVisibilityBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { DEAD_LETTER_KIND, LOCAL_CREDENTIALS, presenceTopic, telemetryTopic } from '../../contracts';
import { createDeadLetterScanner } from '../../dashboard/dead-letter-scan';
import { watchLiveEvents } from '../../dashboard/live-events';
import { pipelineReads } from '../../dashboard/pipeline-reads';
import type { BrokerMessage, MessageBus, MessageHandler } from '../../local/broker/types';
import { topicMatches } from '../../local/common';

const BUILDING_NOW = Date.UTC(2026, 10, 23, 7, 30);

function fakeBus() {
  const subs: Array<{ filter: string; handler: MessageHandler }> = [];
  const bus: MessageBus = {
    publish: async () => {},
    publishTo: async () => false,
    guardReplay: () => () => {},
    subscribe(filter, handler) {
      const sub = { filter, handler };
      subs.push(sub);
      return () => subs.splice(subs.indexOf(sub), 1);
    },
  };
  const deliver = (topic: string, payload: unknown) => {
    const message: BrokerMessage = {
      topic,
      payload: Buffer.from(JSON.stringify(payload)),
      qos: 1,
      retain: false,
      receivedAt: Date.now(),
    };
    for (const s of subs) if (topicMatches(s.filter, topic)) void s.handler(message);
  };
  return { bus, deliver, subscriptions: () => subs.length };
}

describe('live events', () => {
  it("dates presence, readings and commands on the building's clock, not the wall clock", () => {
    let now = BUILDING_NOW;
    const { bus, deliver, subscriptions } = fakeBus();
    const live = watchLiveEvents(bus, 'hq', () => now);
    deliver(presenceTopic('connected', 'hq-lobby-climate'), {});
    now += 60_000;
    deliver(telemetryTopic({ building: 'hq', zone: 'lobby', thing: 'hq-lobby-climate' }), { readings: [] });
    now += 60_000;
    deliver('$aws/things/hq-lobby-hvac/shadow/name/commands/update/accepted', {
      state: { desired: { heating: 'on' } },
    });
    deliver('$aws/things/hq-lobby-hvac/shadow/name/commands/update/accepted', {
      state: { reported: { heating: 'on' } },
    });
    expect(live.presence('hq-lobby-climate')).toEqual({
      connected: true,
      since: BUILDING_NOW,
      lastReading: BUILDING_NOW + 60_000,
      lastReport: undefined,
    });
    expect(live.presence('hq-lobby-hvac')).toEqual({
      connected: false,
      lastReading: undefined,
      lastReport: BUILDING_NOW + 120_000,
    });
    expect(live.commands).toEqual([
      { at: BUILDING_NOW + 120_000, thing: 'hq-lobby-hvac', desired: { heating: 'on' } },
    ]);
    live.close();
    expect(subscriptions()).toBe(0);
  });

  it("ignores another building's telemetry", () => {
    const { bus, deliver } = fakeBus();
    const live = watchLiveEvents(bus, 'hq', () => BUILDING_NOW);
    deliver(telemetryTopic({ building: 'site-b', zone: 'lobby', thing: 'hq-lobby-climate' }), {});
    expect(live.presence('hq-lobby-climate').lastReading).toBeUndefined();
    live.close();
  });
});

describe('the dead-letter queue', () => {
  const sqsMock = mockClient(SQSClient);
  afterEach(() => sqsMock.reset());
  const QUEUE = 'http://127.0.0.1:4600/000000000000/dead-letters';

  const letter = (id: number, readingTs: number | undefined, sentAt: number) => ({
    MessageId: `m${id}`,
    ReceiptHandle: `r${id}`,
    Attributes: { SentTimestamp: String(sentAt) },
    Body: JSON.stringify({
      kind: DEAD_LETTER_KIND,
      code: 'INVALID_READING',
      reason: `reading ${id}`,
      thing: `t${id}`,
      readings: readingTs === undefined ? [{}] : [{ ts: readingTs }],
      at: sentAt,
    }),
  });

  it('reads every message over several receives and makes each visible again', async () => {
    const all = Array.from({ length: 23 }, (_, i) => letter(i, BUILDING_NOW + i * 60_000, 1_000 + i));
    sqsMock
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: all.slice(0, 10) })
      .resolvesOnce({ Messages: all.slice(10, 20) })
      .resolvesOnce({ Messages: all.slice(20) })
      .resolves({ Messages: [] });
    sqsMock.on(ChangeMessageVisibilityBatchCommand).resolves({});
    const scan = createDeadLetterScanner(new SQSClient({ region: 'eu-west-1' }), QUEUE);
    const letters = await scan();
    expect(letters.map((l) => l.messageId)).toEqual(all.map((m) => m.MessageId));
    expect(letters[3]).toMatchObject({ readings: 1, readingsAt: BUILDING_NOW + 3 * 60_000, sentAt: 1_003 });
    const restored = sqsMock
      .commandCalls(ChangeMessageVisibilityBatchCommand)
      .flatMap((c) => c.args[0].input.Entries ?? []);
    expect(restored.map((e) => e.ReceiptHandle).sort()).toEqual(all.map((m) => m.ReceiptHandle).sort());
    expect(restored.every((e) => e.VisibilityTimeout === 0)).toBe(true);
  });

  it('runs one scan at a time, so two readers never hide messages from each other', async () => {
    let running = 0;
    let most = 0;
    sqsMock.on(ReceiveMessageCommand).callsFake(async () => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      return { Messages: [] };
    });
    const scan = createDeadLetterScanner(new SQSClient({ region: 'eu-west-1' }), QUEUE);
    await Promise.all([scan(), scan(), scan()]);
    expect(most).toBe(1);
    expect(sqsMock.commandCalls(ReceiveMessageCommand)).toHaveLength(3);
  });

  it('lists the newest ten first, by the time of their readings, with the count of all', async () => {
    const all = [
      ...Array.from({ length: 12 }, (_, i) => letter(i, BUILDING_NOW + i * 60_000, 5_000 - i)),
      letter(99, undefined, 6_000),
    ];
    sqsMock
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: all.slice(0, 10) })
      .resolvesOnce({ Messages: all.slice(10) })
      .resolves({ Messages: [] });
    sqsMock.on(ChangeMessageVisibilityBatchCommand).resolves({});
    const reads = pipelineReads(
      {
        endpoint: 'http://127.0.0.1:1',
        region: 'eu-west-1',
        credentials: LOCAL_CREDENTIALS,
      },
      QUEUE,
    );
    try {
      const { count, latest } = await reads.deadLetters();
      expect(count).toBe(13);
      expect(latest).toHaveLength(10);
      expect(latest.map((l) => l.thing)).toEqual([
        't11',
        't10',
        't9',
        't8',
        't7',
        't6',
        't5',
        't4',
        't3',
        't2',
      ]);
      expect(latest[0]).toMatchObject({ at: BUILDING_NOW + 11 * 60_000, source: 'ingest' });
    } finally {
      reads.close();
    }
  });
});
