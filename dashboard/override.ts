import { ACTUATOR_KINDS, type ActuatorKind, type BuildingConfig, checkCommand } from '../contracts';
import { DashboardInputError } from './errors';

/**
 * An operator override from the dashboard: one actuator kind in one zone set to a value for a
 * number of minutes. It is written as `desired` on the command shadow of every device of the
 * zone that drives that kind, with `desired.override.<kind>` holding the end time, so the zone
 * controller leaves the actuator alone until then. Every field is checked first; a bad one is
 * refused with what was expected.
 */

export interface OverridePlan {
  readonly kind: ActuatorKind;
  readonly value: unknown;
  /** Epoch ms the override ends. */
  readonly until: number;
  readonly things: readonly string[];
}

/** Checks an override request against the building; throws DashboardInputError naming the bad field. */
export function planOverride(config: BuildingConfig, body: unknown, now: number): OverridePlan {
  const req = (body ?? {}) as { zone?: unknown; kind?: unknown; value?: unknown; minutes?: unknown };
  const zone = config.zones.find((z) => z.id === req.zone);
  if (!zone) throw new DashboardInputError(`unknown zone '${String(req.zone)}'`);
  if (!(ACTUATOR_KINDS as readonly unknown[]).includes(req.kind)) {
    throw new DashboardInputError(
      `unknown actuator '${String(req.kind)}'; expected one of ${ACTUATOR_KINDS.join(', ')}`,
    );
  }
  const kind = req.kind as ActuatorKind;
  const minutes = Number(req.minutes);
  const max = config.comfort.maxOverrideMinutes;
  if (!Number.isFinite(minutes) || minutes <= 0 || minutes > max) {
    throw new DashboardInputError(
      `override minutes must be between 0 and ${max} (comfort.maxOverrideMinutes)`,
    );
  }
  const targets = zone.devices.filter((d) => d.drives.includes(kind));
  if (targets.length === 0)
    throw new DashboardInputError(`zone '${zone.id}' has no device that drives ${kind}`);
  const check = checkCommand(kind, req.value, [kind]);
  if (!check.ok) throw new DashboardInputError(check.reason);
  return {
    kind,
    value: check.value,
    until: now + Math.round(minutes * 60_000),
    things: targets.map((d) => d.thing),
  };
}
