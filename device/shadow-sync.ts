/**
 * Pure shadow logic: turns a desired state (a delta, or desired from a get) into what to apply
 * and what to refuse, and builds the reported document. The MQTT side is in agent.ts.
 *
 * Rules: each desired key is checked with the contract's `checkCommand` against what this
 * device drives; a valid value is applied, anything else is not applied and is reported under
 * `reported.rejected[key]` with the reason. Annotation keys (`override`) are echoed unchanged.
 * A key that was rejected before and is applied now has its rejection cleared (null).
 */
import {
  type ActuatorKind,
  type ActuatorState,
  COMMAND_ANNOTATION_KEYS,
  type ControlMode,
  checkCommand,
  type ReportedCommandState,
} from '../contracts';
import type { ActuatorValue } from './drivers';

export interface DesiredPlan {
  readonly apply: ReadonlyArray<{ kind: ActuatorKind; value: NonNullable<ActuatorValue> }>;
  readonly rejected: Readonly<Record<string, string>>;
  /** Annotation keys to echo back as they came. */
  readonly annotations: Readonly<Record<string, unknown>>;
}

const ANNOTATIONS: readonly string[] = COMMAND_ANNOTATION_KEYS;

export function planDesired(desired: unknown, drives: readonly ActuatorKind[]): DesiredPlan {
  const apply: Array<{ kind: ActuatorKind; value: NonNullable<ActuatorValue> }> = [];
  const rejected: Record<string, string> = {};
  const annotations: Record<string, unknown> = {};
  if (desired === null || typeof desired !== 'object' || Array.isArray(desired)) {
    return { apply, rejected: { desired: 'expected an object of actuator values' }, annotations };
  }
  for (const [key, value] of Object.entries(desired as Record<string, unknown>)) {
    if (ANNOTATIONS.includes(key)) {
      annotations[key] = value;
      continue;
    }
    if (value === null) continue; // a desired key being deleted: nothing to apply
    const check = checkCommand(key, value, drives);
    if (check.ok) apply.push({ kind: check.kind, value: check.value });
    else rejected[check.key] = check.reason;
  }
  return { apply, rejected, annotations };
}

export interface ReportInput {
  readonly drives: readonly ActuatorKind[];
  readonly state: ActuatorState;
  readonly plan?: DesiredPlan;
  /** Keys currently reported as rejected (so accepted ones can be cleared). */
  readonly previouslyRejected?: ReadonlySet<string>;
  /** Apply failures from drivers, per key. */
  readonly failed?: Readonly<Record<string, string>>;
  readonly mode: ControlMode;
  readonly extra?: Readonly<Record<string, unknown>>;
}

/** The `reported` section to send: actuator state, echoed annotations, rejections, mode. */
export function reportedState(input: ReportInput): ReportedCommandState & Record<string, unknown> {
  const reported: ReportedCommandState & Record<string, unknown> = {};
  for (const kind of input.drives) {
    const value = input.state[kind];
    if (value !== undefined) (reported as Record<string, unknown>)[kind] = value;
  }
  if (input.plan) Object.assign(reported, input.plan.annotations);
  const rejected: Record<string, string | null> = {};
  const nowRejected = { ...(input.plan?.rejected ?? {}), ...(input.failed ?? {}) };
  const applied = new Set<string>((input.plan?.apply ?? []).map((a) => a.kind));
  for (const key of input.previouslyRejected ?? []) {
    if (applied.has(key) && !(key in nowRejected)) rejected[key] = null;
  }
  Object.assign(rejected, nowRejected);
  if (Object.keys(rejected).length > 0) reported.rejected = rejected as Record<string, string>;
  reported.mode = input.mode;
  if (input.extra) Object.assign(reported, input.extra);
  return reported;
}
