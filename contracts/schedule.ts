import type { ComfortPolicy, Weekday } from './building';

/**
 * The comfort schedule: when the building counts as occupied. The zone controller picks its
 * setpoint by it, the simulation fills and heats the building by it and the dashboard shows it,
 * so all of them ask this one function. An entry covers `from` (inclusive) to `to` (exclusive)
 * on each of its days, read as wall-clock time in the policy's IANA time zone.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Weekday and HH:MM of an instant (epoch ms) in a time zone. */
export function localTime(at: number, timeZone: string): { day: Weekday; hhmm: string } {
  let fmt = formatters.get(timeZone);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat('en-US', {
      timeZone,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(timeZone, fmt);
  }
  const parts = fmt.formatToParts(new Date(at));
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  return {
    day: part('weekday').toLowerCase().slice(0, 3) as Weekday,
    hhmm: `${part('hour')}:${part('minute')}`,
  };
}

/** Whether the schedule says the building is occupied at `at` (epoch ms). */
export function isScheduledOccupied(
  policy: Pick<ComfortPolicy, 'schedule' | 'timezone'>,
  at: number,
): boolean {
  const { day, hhmm } = localTime(at, policy.timezone);
  return policy.schedule.some((s) => s.days.includes(day) && s.from <= hhmm && hhmm < s.to);
}
