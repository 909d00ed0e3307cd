import { z } from 'zod';
import {
  ACTUATOR_KINDS,
  type ActuatorKind,
  type ActuatorState,
  ActuatorValueSchemas,
  type BuildingClock,
  type DesiredCommandState,
  describeIssues,
  type Reading,
  ReadingSchema,
  type ZoneControlConfig,
  ZoneControlConfigSchema,
} from '../../contracts';
import { buildingTime } from './building-clock';
import {
  type CommandShadowSnapshot,
  type CommandShadows,
  ShadowVersionConflictError,
} from './command-shadow';
import { decide, latestMeasures, type OverrideWindows } from './policy';
import type { SnapshotCache } from './snapshot-cache';

/**
 * Zone controller logic, free of any AWS SDK: for each actuator thing of the zone, read its
 * command shadow, run the policy and write `desired` only when something changes.
 */

/** The control rule's output: the address of the thing that reported and its readings. */
export const ControlEventSchema = z.object({
  building: z.string().min(1),
  zone: z.string().min(1),
  thing: z.string().min(1),
  readings: z.array(z.unknown()),
});

export interface ControlEvent {
  readonly building: string;
  readonly zone: string;
  readonly thing: string;
  /** The valid readings of the message; invalid ones are the ingest path's business. */
  readonly readings: Reading[];
}

export class InvalidControlEventError extends Error {
  override readonly name = 'InvalidControlEventError';
}

export class ZoneControlConfigError extends Error {
  override readonly name = 'ZoneControlConfigError';
}

export function parseControlEvent(input: unknown): ControlEvent {
  const parsed = ControlEventSchema.safeParse(input);
  if (!parsed.success) {
    throw new InvalidControlEventError(describeIssues(parsed.error, input, 'event').join('; '));
  }
  const readings: Reading[] = [];
  for (const raw of parsed.data.readings) {
    const reading = ReadingSchema.safeParse(raw);
    if (reading.success) readings.push(reading.data);
  }
  return { ...parsed.data, readings };
}

/** Parses the zone control config file shipped with the function (ZONE_CONTROL_CONFIG_FILE). */
export function parseZoneControlConfig(text: string): ZoneControlConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ZoneControlConfigError(`zone control config is not valid JSON (${(error as Error).message})`);
  }
  const parsed = ZoneControlConfigSchema.safeParse(json);
  if (!parsed.success) {
    throw new ZoneControlConfigError(describeIssues(parsed.error, json, 'zone control config').join('; '));
  }
  return parsed.data;
}

/** Current actuator values: desired where set, else reported; values outside the contract are ignored. */
export function currentStateOf(snapshot: CommandShadowSnapshot): ActuatorState {
  const state: ActuatorState = {};
  for (const kind of ACTUATOR_KINDS) {
    for (const source of [snapshot.desired, snapshot.reported]) {
      const value = source?.[kind];
      if (value === undefined || value === null) continue;
      const parsed = ActuatorValueSchemas[kind].safeParse(value);
      if (parsed.success) (state as Record<ActuatorKind, unknown>)[kind] = parsed.data;
      break;
    }
  }
  return state;
}

/** Operator overrides from `desired.override` (reported only echoes them). */
export function overridesOf(snapshot: CommandShadowSnapshot): OverrideWindows {
  const out: OverrideWindows = {};
  const override = snapshot.desired?.override;
  if (!override || typeof override !== 'object') return out;
  for (const kind of ACTUATOR_KINDS) {
    const until = (override as Record<string, unknown>)[kind];
    if (typeof until !== 'number' || !Number.isFinite(until)) continue;
    const setAt = snapshot.overrideSetAt?.[kind];
    out[kind] = setAt === undefined ? { until } : { until, setAt };
  }
  return out;
}

export interface ActuatorPlan {
  /** The desired patch to write, or undefined when nothing changes. */
  readonly desired?: DesiredCommandState;
  readonly commands: number;
  readonly expiredOverrides: ActuatorKind[];
}

/** Decides one actuator from its shadow, at the building's time `now`, on the event's readings. */
export function planActuator(
  snapshot: CommandShadowSnapshot,
  drives: readonly ActuatorKind[],
  event: ControlEvent,
  config: ZoneControlConfig,
  now: number,
): ActuatorPlan {
  const { changes, expiredOverrides } = decide({
    measures: latestMeasures(event.readings),
    now,
    policy: config.policy,
    current: currentStateOf(snapshot),
    overrides: overridesOf(snapshot),
    drives,
  });
  const commands = Object.keys(changes).length;
  if (commands === 0 && expiredOverrides.length === 0) return { commands, expiredOverrides };
  const desired: DesiredCommandState = { ...changes };
  if (expiredOverrides.length > 0) {
    desired.override = Object.fromEntries(expiredOverrides.map((k) => [k, null]));
  }
  return { desired, commands, expiredOverrides };
}

export interface ControllerLog {
  info(message: string, ...extra: Array<Record<string, unknown>>): void;
  warn(message: string, ...extra: Array<Record<string, unknown>>): void;
}

export interface ControlDeps {
  readonly config: ZoneControlConfig;
  readonly shadows: CommandShadows;
  /** The function's clock. */
  readonly now: () => number;
  /** Which clock is the building's (building-clock.ts). @default 'wall' */
  readonly clock?: BuildingClock;
  readonly log?: ControllerLog;
  /** Reads and decides again this many times when the shadow changed in between. */
  readonly conflictRetries?: number;
  /**
   * Shadows read recently (snapshot-cache.ts): a decision on one of them that writes nothing
   * needs no read. Without it every decision reads every actuator's shadow.
   */
  readonly recent?: SnapshotCache;
}

export interface ControlOutcome {
  readonly updatedThings: string[];
  readonly commandsIssued: number;
  readonly overridesExpired: number;
}

/**
 * Runs the controller for the zone of the event. Every actuator is handled even when another
 * fails; the first failure is then rethrown so the invocation is retried (which is safe: a
 * retry finds the changes already made and writes nothing for them).
 */
export async function controlZone(event: ControlEvent, deps: ControlDeps): Promise<ControlOutcome> {
  const { config, log } = deps;
  if (event.building !== config.building) {
    log?.warn('event for another building ignored', { building: event.building, expected: config.building });
    return { updatedThings: [], commandsIssued: 0, overridesExpired: 0 };
  }
  const actuators = config.zones[event.zone];
  if (!actuators) {
    log?.warn('event for an unknown zone ignored', { zone: event.zone, thing: event.thing });
    return { updatedThings: [], commandsIssued: 0, overridesExpired: 0 };
  }
  if (event.readings.length === 0) return { updatedThings: [], commandsIssued: 0, overridesExpired: 0 };
  const time = buildingTime(event.readings, deps.now(), deps.clock ?? 'wall');
  if (time.stale + time.ahead > 0) {
    log?.warn('readings left out of the decision: not recent by the building clock', {
      thing: event.thing,
      stale: time.stale,
      ahead: time.ahead,
      buildingTime: new Date(time.now).toISOString(),
    });
  }
  if (time.fresh.length === 0) return { updatedThings: [], commandsIssued: 0, overridesExpired: 0 };
  const fresh: ControlEvent = { ...event, readings: time.fresh };

  const results = await Promise.allSettled(
    actuators.map((a) => controlActuator(a.thing, a.drives, fresh, time.now, deps)),
  );
  const updatedThings: string[] = [];
  let commandsIssued = 0;
  let overridesExpired = 0;
  let firstError: unknown;
  results.forEach((result, i) => {
    if (result.status === 'rejected') {
      firstError ??= result.reason;
      log?.warn('actuator not controlled', { thing: actuators[i]?.thing, error: String(result.reason) });
      return;
    }
    if (result.value.desired) updatedThings.push(actuators[i]!.thing);
    commandsIssued += result.value.commands;
    overridesExpired += result.value.expiredOverrides.length;
  });
  if (firstError !== undefined) throw firstError;
  return { updatedThings, commandsIssued, overridesExpired };
}

async function controlActuator(
  thing: string,
  drives: readonly ActuatorKind[],
  event: ControlEvent,
  now: number,
  deps: ControlDeps,
): Promise<ActuatorPlan> {
  const recent = deps.recent?.get(thing);
  if (recent) {
    const plan = planActuator(recent, drives, event, deps.config, now);
    // Nothing to write: done without a read. Something to write: decided again on a fresh read.
    if (!plan.desired) return plan;
  }
  const retries = deps.conflictRetries ?? 2;
  for (let attempt = 0; ; attempt++) {
    const snapshot = await deps.shadows.get(thing);
    deps.recent?.set(thing, snapshot);
    const plan = planActuator(snapshot, drives, event, deps.config, now);
    if (!plan.desired) return plan;
    try {
      deps.recent?.drop(thing);
      await deps.shadows.update(thing, plan.desired, snapshot.version);
      deps.log?.info('commands issued', { thing, desired: plan.desired });
      return plan;
    } catch (error) {
      if (!(error instanceof ShadowVersionConflictError) || attempt >= retries) throw error;
    }
  }
}
