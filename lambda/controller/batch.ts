import { type ControlEvent, InvalidControlEventError, parseControlEvent } from './controller';

/**
 * A batch of control events from the control queue, grouped by zone, so the controller decides
 * once per zone of the batch instead of once per message: the decision looks at the latest value
 * of each measure anyway (policy.ts `latestMeasures`), so the zone's readings of every message
 * of the batch go into that one decision. Pure: no AWS SDK.
 */

/** One SQS message of the batch: its id and body (the control rule's output as JSON). */
export interface ControlMessage {
  readonly messageId: string;
  readonly body: string;
}

/** What the controller decides once: one zone, with the readings of all its messages. */
export interface ZoneBatch {
  /** The zone's readings of the batch; `thing` is the thing whose reading is newest. */
  readonly event: ControlEvent;
  /** The messages the decision stands for: all of them fail, or none, with it. */
  readonly messageIds: readonly string[];
  /** Every thing that reported, in the order first seen. */
  readonly things: readonly string[];
}

export interface ControlBatch {
  readonly zones: readonly ZoneBatch[];
  /** Messages that are no control event: a retry cannot fix them, so they are dropped. */
  readonly invalid: ReadonlyArray<{ readonly messageId: string; readonly reason: string }>;
}

export function groupControlBatch(messages: readonly ControlMessage[]): ControlBatch {
  const zones = new Map<string, { events: ControlEvent[]; messageIds: string[]; things: string[] }>();
  const invalid: Array<{ messageId: string; reason: string }> = [];
  for (const { messageId, body } of messages) {
    let event: ControlEvent;
    try {
      event = parseControlEvent(JSON.parse(body));
    } catch (err) {
      if (!(err instanceof InvalidControlEventError) && !(err instanceof SyntaxError)) throw err;
      invalid.push({ messageId, reason: (err as Error).message });
      continue;
    }
    const key = `${event.building}/${event.zone}`;
    let zone = zones.get(key);
    if (!zone) {
      zone = { events: [], messageIds: [], things: [] };
      zones.set(key, zone);
    }
    zone.events.push(event);
    zone.messageIds.push(messageId);
    if (!zone.things.includes(event.thing)) zone.things.push(event.thing);
  }
  return {
    zones: [...zones.values()].map((z) => ({
      event: merge(z.events),
      messageIds: z.messageIds,
      things: z.things,
    })),
    invalid,
  };
}

/** The events of one zone as one: all their readings, named after the thing of the newest one. */
function merge(events: readonly ControlEvent[]): ControlEvent {
  const first = events[0]!;
  if (events.length === 1) return first;
  let newest = first;
  let newestAt = -Infinity;
  for (const e of events) {
    for (const r of e.readings) {
      if (r.ts >= newestAt) {
        newestAt = r.ts;
        newest = e;
      }
    }
  }
  return {
    building: first.building,
    zone: first.zone,
    thing: newest.thing,
    readings: events.flatMap((e) => e.readings),
  };
}
