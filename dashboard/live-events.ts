import { acceptedDesired, COMMAND_SHADOW_ACCEPTED_FILTER, presenceTopic } from '../contracts';
import type { MessageBus } from '../local/broker/types';

/**
 * What the dashboard learns from the message bus as it happens: device presence from AWS IoT's
 * lifecycle events, and the commands written to the command shadows (each accepted update with
 * a desired state), newest first.
 */

/** How many commands the dashboard keeps. */
const MAX_COMMANDS = 30;

export interface LiveEvents {
  presence(thing: string): { connected: boolean; since?: number };
  readonly commands: ReadonlyArray<{ at: number; thing: string; desired: Record<string, unknown> }>;
  close(): void;
}

export function watchLiveEvents(bus: MessageBus): LiveEvents {
  const presence = new Map<string, { connected: boolean; since: number }>();
  const commands: Array<{ at: number; thing: string; desired: Record<string, unknown> }> = [];
  const clientOf = (topic: string) => topic.split('/').pop()!;
  const unsubscribes = [
    bus.subscribe(presenceTopic('connected', '+'), (m) => {
      presence.set(clientOf(m.topic), { connected: true, since: Date.now() });
    }),
    bus.subscribe(presenceTopic('disconnected', '+'), (m) => {
      presence.set(clientOf(m.topic), { connected: false, since: Date.now() });
    }),
    bus.subscribe(COMMAND_SHADOW_ACCEPTED_FILTER, (m) => {
      const desired = acceptedDesired(m.payload);
      if (!desired) return;
      commands.unshift({ at: Date.now(), thing: m.topic.split('/')[2]!, desired });
      commands.length = Math.min(commands.length, MAX_COMMANDS);
    }),
  ];
  return {
    presence: (thing) => presence.get(thing) ?? { connected: false },
    commands,
    close() {
      for (const u of unsubscribes) u();
    },
  };
}
