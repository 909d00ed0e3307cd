import {
  ACTUATOR_KINDS,
  type ActuatorKind,
  acceptedDesired,
  COMMAND_SHADOW_ACCEPTED_FILTER,
} from '../contracts';
import type { MessageBus } from '../local/broker/types';

/**
 * The demo's command accounting. A command is one actuator value written as `desired` on a
 * command shadow (by the zone controller or an operator), seen on the Device Shadow service's
 * `update/accepted` topic. Each command is applied at most once: when a device's driver is set
 * to the value of the command outstanding for that thing and actuator. So
 *
 *   issued = applied + superseded + outstanding,   applied <= issued
 *
 * where superseded commands were replaced by a newer one before the device applied them. A
 * driver call with a value no command holds outstanding is a repeat: a shadow delta that
 * carried a value again (the device's report had not reached the shadow yet), or the device
 * fetching its shadow after a reconnect. Repeats are counted apart, never as applied.
 */

export interface CommandCounts {
  readonly issued: number;
  readonly applied: number;
  readonly superseded: number;
  readonly outstanding: number;
  readonly repeated: number;
}

export interface CommandBook {
  /** A device's driver was set: called by the demo's actuator drivers. */
  applied(thing: string, kind: ActuatorKind, value: unknown): void;
  /** The latest desired actuator values of each thing, from the accepted updates. */
  desired(thing: string): Readonly<Partial<Record<ActuatorKind, unknown>>>;
  counts(): CommandCounts;
  close(): void;
}

export function createCommandBook(bus: MessageBus): CommandBook {
  let issued = 0;
  let applied = 0;
  let superseded = 0;
  let repeated = 0;
  const outstanding = new Map<string, unknown>();
  const desired = new Map<string, Partial<Record<ActuatorKind, unknown>>>();
  const key = (thing: string, kind: ActuatorKind) => `${thing}\u0000${kind}`;

  const unsubscribe = bus.subscribe(COMMAND_SHADOW_ACCEPTED_FILTER, (m) => {
    const state = acceptedDesired(m.payload);
    if (!state) return;
    const thing = m.topic.split('/')[2] as string;
    const current = { ...(desired.get(thing) ?? {}) };
    for (const kind of ACTUATOR_KINDS) {
      if (!(kind in state)) continue;
      const value = state[kind];
      if (value === null || value === undefined) {
        delete current[kind];
        continue;
      }
      current[kind] = value;
      issued++;
      if (outstanding.has(key(thing, kind))) superseded++;
      outstanding.set(key(thing, kind), value);
    }
    desired.set(thing, current);
  });

  return {
    applied(thing, kind, value) {
      const k = key(thing, kind);
      if (outstanding.has(k) && outstanding.get(k) === value) {
        outstanding.delete(k);
        applied++;
      } else {
        repeated++;
      }
    },
    desired: (thing) => desired.get(thing) ?? {},
    counts: () => ({ issued, applied, superseded, outstanding: outstanding.size, repeated }),
    close: unsubscribe,
  };
}
