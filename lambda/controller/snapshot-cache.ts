import type { CommandShadowSnapshot } from './command-shadow';

/**
 * The command shadows the controller read recently, kept for `ttlMs` within one execution
 * environment (Lambda reuses it between invocations, "Lambda execution environment lifecycle").
 *
 * A snapshot from here only ever decides that nothing needs writing: when a decision on it
 * would write, the controller reads the shadow again and decides on that, and writes with the
 * version it read (controller.ts). So a stale snapshot never causes a write; the most it can do
 * is hold back, for at most `ttlMs`, a correction of a change made outside the controller (an
 * operator's write to `desired` without an override, a device reporting a state of its own
 * while `desired` names none). Overrides and their expiry are in the snapshot, so they are
 * kept either way. A thing's entry is dropped when the controller writes its shadow.
 *
 * With it the controller's shadow reads follow the actuators and the time, not the messages:
 * at most one GetThingShadow per actuator per `ttlMs`, plus one before each write.
 */
export class SnapshotCache {
  private readonly entries = new Map<string, { snapshot: CommandShadowSnapshot; at: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  /** The thing's snapshot if it was read less than `ttlMs` ago. */
  get(thing: string): CommandShadowSnapshot | undefined {
    const entry = this.entries.get(thing);
    if (!entry) return undefined;
    const age = this.now() - entry.at;
    if (age >= 0 && age < this.ttlMs) return entry.snapshot;
    this.entries.delete(thing);
    return undefined;
  }

  set(thing: string, snapshot: CommandShadowSnapshot): void {
    if (this.ttlMs > 0) this.entries.set(thing, { snapshot, at: this.now() });
  }

  drop(thing: string): void {
    this.entries.delete(thing);
  }
}
