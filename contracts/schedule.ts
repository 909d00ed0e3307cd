import type { ComfortPolicy, Weekday } from './building';

/**
 * The comfort schedule: when the building counts as occupied. The zone controller picks its
 * setpoint by it, the simulation fills and heats the building by it and the dashboard shows it,
 * so all of them ask this one function. An entry covers `from` (inclusive) to `to` (exclusive)
 * on each of its days, read as wall-clock time in the policy's IANA time zone.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();
/** Per time zone, the parts of the last minute asked for: formatToParts costs tens of µs. */
const lastMinute = new Map<string, { minute: number; parts: Intl.DateTimeFormatPart[] }>();

/**
 * An instant's calendar fields in a time zone (24-hour clock), one cached formatter per zone.
 * The fields stop at the minute and every zone's UTC offset has been whole minutes since 1972,
 * so the parts of the last minute asked for are kept and reused for every instant within it
 * (the zone controller asks several times per decision).
 */
function zonedParts(at: number, timeZone: string): (type: Intl.DateTimeFormatPartTypes) => string {
  const minute = Math.floor(at / 60_000);
  let cached = lastMinute.get(timeZone);
  if (cached?.minute !== minute) {
    let fmt = formatters.get(timeZone);
    if (!fmt) {
      fmt = new Intl.DateTimeFormat('en-US', {
        timeZone,
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        weekday: 'short',
        hour: '2-digit',
        minute: '2-digit',
        hourCycle: 'h23',
      });
      formatters.set(timeZone, fmt);
    }
    cached = { minute, parts: fmt.formatToParts(new Date(minute * 60_000)) };
    lastMinute.set(timeZone, cached);
  }
  const { parts } = cached;
  return (type) => parts.find((p) => p.type === type)?.value ?? '';
}

/** Weekday and HH:MM of an instant (epoch ms) in a time zone. */
export function localTime(at: number, timeZone: string): { day: Weekday; hhmm: string } {
  const part = zonedParts(at, timeZone);
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

/** A calendar date in a time zone. */
export interface LocalDate {
  readonly year: number;
  /** 1-12. */
  readonly month: number;
  readonly day: number;
  readonly weekday: Weekday;
}

/** The calendar date of an instant (epoch ms) in a time zone. */
export function localDateOf(at: number, timeZone: string): LocalDate {
  const part = zonedParts(at, timeZone);
  return {
    year: Number(part('year')),
    month: Number(part('month')),
    day: Number(part('day')),
    weekday: part('weekday').toLowerCase().slice(0, 3) as Weekday,
  };
}

/** The offset of a time zone from UTC at an instant, in ms (UTC+01:00 -> 3,600,000). */
function offsetAt(at: number, timeZone: string): number {
  const d = localDateOf(at, timeZone);
  const { hhmm } = localTime(at, timeZone);
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  const minute = at - (((at % 60_000) + 60_000) % 60_000);
  return Date.UTC(d.year, d.month - 1, d.day, h, m) - minute;
}

/**
 * The instant (epoch ms) a local date and HH:MM names in a time zone. A time skipped by a
 * daylight-saving change resolves to the instant after the gap; a repeated one to its first.
 */
export function zonedEpoch(
  date: Pick<LocalDate, 'year' | 'month' | 'day'>,
  hhmm: string,
  timeZone: string,
): number {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  const asUtc = Date.UTC(date.year, date.month - 1, date.day, h, m);
  let at = asUtc - offsetAt(asUtc, timeZone);
  at = asUtc - offsetAt(at, timeZone);
  return at;
}

/** The earliest start and latest end of the schedule's entries on a weekday, or undefined when it has none. */
export function openingHours(
  policy: Pick<ComfortPolicy, 'schedule'>,
  day: Weekday,
): { from: string; to: string } | undefined {
  const entries = policy.schedule.filter((s) => s.days.includes(day));
  if (entries.length === 0) return undefined;
  return {
    from: entries.map((s) => s.from).sort()[0] as string,
    to: entries
      .map((s) => s.to)
      .sort()
      .at(-1) as string,
  };
}

const DAY_MS = 24 * 3_600_000;

/**
 * When the schedule next starts an occupied period at or after `at` (epoch ms), looking up to
 * a week ahead; undefined when the schedule never starts one in that time.
 */
export function nextOpening(
  policy: Pick<ComfortPolicy, 'schedule' | 'timezone'>,
  at: number,
): number | undefined {
  let best: number | undefined;
  for (let k = 0; k <= 7 && best === undefined; k++) {
    // Noon keeps the probe on the intended calendar day across daylight-saving changes.
    const today = localDateOf(at, policy.timezone);
    const date = localDateOf(zonedEpoch(today, '12:00', policy.timezone) + k * DAY_MS, policy.timezone);
    for (const entry of policy.schedule) {
      if (!entry.days.includes(date.weekday)) continue;
      const start = zonedEpoch(date, entry.from, policy.timezone);
      if (start >= at && (best === undefined || start < best)) best = start;
    }
  }
  return best;
}
