import {
  acceptedDesired,
  COMMAND_SHADOW_ACCEPTED_FILTER,
  parseTelemetryTopic,
  presenceTopic,
  telemetryTopicFilter,
} from '../contracts';
import type { MessageBus } from '../local/broker/types';

/**
 * What the dashboard learns from the message bus as it happens: device presence from AWS IoT's
 * lifecycle events, when each device last sent readings, and the commands written to the
 * command shadows (each accepted update with a desired state), newest first.
 *
 * Every event is dated on the building's clock (`clock`: simulated time in the demo, the wall
 * clock otherwise), the clock the zones, charts and overrides use, so the page shows one time.
 */

/** How many commands the dashboard keeps. */
const MAX_COMMANDS = 30;

export interface LiveCommand {
  readonly at: number;
  readonly thing: string;
  readonly desired: Record<string, unknown>;
}

export interface LiveEvents {
  presence(thing: string): { connected: boolean; since?: number; lastReading?: number; lastReport?: number };
  readonly commands: ReadonlyArray<LiveCommand>;
  close(): void;
}

export function watchLiveEvents(
  bus: MessageBus,
  buildingId: string,
  clock: () => number = Date.now,
): LiveEvents {
  const presence = new Map<string, { connected: boolean; since: number }>();
  const lastReading = new Map<string, number>();
  const lastReport = new Map<string, number>();
  const commands: LiveCommand[] = [];
  const clientOf = (topic: string) => topic.split('/').pop()!;
  const unsubscribes = [
    bus.subscribe(presenceTopic('connected', '+'), (m) => {
      presence.set(clientOf(m.topic), { connected: true, since: clock() });
    }),
    bus.subscribe(presenceTopic('disconnected', '+'), (m) => {
      presence.set(clientOf(m.topic), { connected: false, since: clock() });
    }),
    bus.subscribe(telemetryTopicFilter(buildingId), (m) => {
      const address = parseTelemetryTopic(m.topic);
      if (address) lastReading.set(address.thing, clock());
    }),
    bus.subscribe(COMMAND_SHADOW_ACCEPTED_FILTER, (m) => {
      // An actuator reports what it applied: its sign of life, as readings are a sensor's.
      if (reportsState(m.payload)) lastReport.set(m.topic.split('/')[2]!, clock());
      const desired = acceptedDesired(m.payload);
      if (!desired) return;
      commands.unshift({ at: clock(), thing: m.topic.split('/')[2]!, desired });
      commands.length = Math.min(commands.length, MAX_COMMANDS);
    }),
  ];
  return {
    presence: (thing) => ({
      connected: false,
      ...presence.get(thing),
      lastReading: lastReading.get(thing),
      lastReport: lastReport.get(thing),
    }),
    commands,
    close() {
      for (const u of unsubscribes) u();
    },
  };
}

function reportsState(payload: Buffer): boolean {
  try {
    const doc = JSON.parse(payload.toString('utf8')) as { state?: { reported?: unknown } };
    return typeof doc.state?.reported === 'object' && doc.state.reported !== null;
  } catch {
    return false;
  }
}
