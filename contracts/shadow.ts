import { z } from 'zod';
import {
  ACTUATOR_KINDS,
  type ActuatorKind,
  HEATING_STATES,
  LIGHTING_RANGE,
  VENTILATION_LEVELS,
} from './measures';
import { shadowTopicPrefix } from './topics';
import { describeIssues } from './validation';

/**
 * The named shadow that carries commands to actuators. The cloud (zone controller or an
 * operator) writes `desired`; the device applies what it can and writes `reported`.
 *
 * desired:  { heating?, ventilation?, lighting?, override? }
 * reported: { heating?, ventilation?, lighting?, override?, rejected?, mode? }
 *
 * `override` maps an actuator kind to the epoch-millisecond time an operator override ends;
 * while it runs, the zone controller leaves that actuator alone. Devices echo it unchanged.
 */
export const COMMAND_SHADOW_NAME = 'commands';

/**
 * Every thing's accepted command shadow updates: the Device Shadow service publishes each
 * update it accepts on `<shadow prefix>/update/accepted` (AWS IoT Developer Guide, "Device
 * Shadow MQTT topics"). The thing name is the third topic level.
 */
export const COMMAND_SHADOW_ACCEPTED_FILTER = `${shadowTopicPrefix('+', COMMAND_SHADOW_NAME)}/update/accepted`;

/** The `state.desired` of an accepted update document, or undefined when it has none or is not JSON. */
export function acceptedDesired(payload: Uint8Array | string): Record<string, unknown> | undefined {
  try {
    const text = typeof payload === 'string' ? payload : new TextDecoder().decode(payload);
    const doc = JSON.parse(text) as { state?: { desired?: unknown } } | null;
    const desired = doc?.state?.desired;
    return desired !== null && typeof desired === 'object' ? (desired as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export const HeatingSchema = z.enum(HEATING_STATES, { message: `one of ${HEATING_STATES.join(', ')}` });
export const VentilationSchema = z.enum(VENTILATION_LEVELS, {
  message: `one of ${VENTILATION_LEVELS.join(', ')}`,
});
export const LightingSchema = z
  .number({ message: `a whole percentage ${LIGHTING_RANGE.min}-${LIGHTING_RANGE.max}` })
  .int({ message: `a whole percentage ${LIGHTING_RANGE.min}-${LIGHTING_RANGE.max}` })
  .min(LIGHTING_RANGE.min, { message: `a lighting level of at least ${LIGHTING_RANGE.min}` })
  .max(LIGHTING_RANGE.max, { message: `a lighting level of at most ${LIGHTING_RANGE.max}` });

export const ActuatorValueSchemas = {
  heating: HeatingSchema,
  ventilation: VentilationSchema,
  lighting: LightingSchema,
} as const;

export type HeatingCommand = z.output<typeof HeatingSchema>;
export type VentilationCommand = z.output<typeof VentilationSchema>;
export type LightingCommand = z.output<typeof LightingSchema>;

export interface ActuatorState {
  heating?: HeatingCommand;
  ventilation?: VentilationCommand;
  lighting?: LightingCommand;
}

/** Operator override end times (epoch ms) per actuator kind. */
export const OverrideSchema = z
  .object({
    heating: z.number().int().positive().nullable().optional(),
    ventilation: z.number().int().positive().nullable().optional(),
    lighting: z.number().int().positive().nullable().optional(),
  })
  .strict();
export type Overrides = z.output<typeof OverrideSchema>;

/** Where an actuator's state comes from at the device. */
export const CONTROL_MODES = ['cloud', 'fallback'] as const;
export type ControlMode = (typeof CONTROL_MODES)[number];

export interface DesiredCommandState extends ActuatorState {
  override?: Overrides | null;
}

export interface ReportedCommandState extends ActuatorState {
  override?: Overrides | null;
  /** Why the device refused a desired value, per actuator key; null clears it. */
  rejected?: Record<string, string> | null;
  mode?: ControlMode;
}

export type CommandCheck =
  | {
      readonly ok: true;
      readonly kind: ActuatorKind;
      readonly value: HeatingCommand | VentilationCommand | LightingCommand;
    }
  | { readonly ok: false; readonly key: string; readonly reason: string };

/**
 * Checks one desired key against the contract and what this device drives. A device calls
 * this for every key of a delta and applies only what comes back ok.
 */
export function checkCommand(key: string, value: unknown, drives: readonly ActuatorKind[]): CommandCheck {
  if (!(ACTUATOR_KINDS as readonly string[]).includes(key)) {
    return {
      ok: false,
      key,
      reason: `unknown actuator '${key}'; expected one of ${ACTUATOR_KINDS.join(', ')}`,
    };
  }
  const kind = key as ActuatorKind;
  if (!drives.includes(kind)) {
    return {
      ok: false,
      key,
      reason: `this device does not drive ${kind}; it drives ${drives.join(', ') || 'nothing'}`,
    };
  }
  const parsed = ActuatorValueSchemas[kind].safeParse(value);
  if (!parsed.success) {
    return { ok: false, key, reason: describeIssues(parsed.error, value, kind).join('; ') };
  }
  return { ok: true, kind, value: parsed.data };
}

/** Keys of the command shadow that are not actuator values and that devices echo back. */
export const COMMAND_ANNOTATION_KEYS = ['override'] as const;
