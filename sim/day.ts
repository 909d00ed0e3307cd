import {
  type ComfortPolicy,
  type LocalDate,
  localDateOf,
  openingHours,
  type Weekday,
  zonedEpoch,
} from '../contracts';

/**
 * Which stretch of time the demo simulates. It is fixed by the options and the building's
 * schedule, never by the hour the demo is started: a working day of one weekday, from two hours
 * before the schedule opens (so pre-heating shows) to one hour after it closes, in the
 * building's time zone. The date is the latest such weekday that has fully passed and that the
 * store still accepts readings for; the date changes from week to week, but nothing the
 * simulation computes depends on it (weather, people and the schedule depend on the time of day
 * and the weekday only), so the same options give the same day.
 */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** How far before opening the window starts. */
export const LEAD_HOURS = 2;
/** How far after closing the window ends. */
export const TRAIL_HOURS = 1;
/** The schedule assumed on a weekday the building's schedule leaves out. */
const NO_SCHEDULE = { from: '07:00', to: '19:00' };

export interface SimulatedWindow {
  /** First simulated instant (epoch ms). */
  readonly from: number;
  /** Last simulated instant (epoch ms). */
  readonly to: number;
  /** Local midnight of the simulated date: the origin of the simulation's time of day. */
  readonly dayStart: number;
  readonly date: LocalDate;
  /** Local HH:MM of `from` and `to` on that date (`to` may read 24:00 or later for a window past midnight). */
  readonly fromHhmm: string;
  readonly toHhmm: string;
}

export interface WindowOptions {
  /** The wall clock now (epoch ms): the window ends at or before it. */
  readonly now: number;
  /** The weekday to simulate. @default the first day of the schedule's first entry */
  readonly day?: Weekday;
  /** Simulated hours from the start. @default until one hour after closing */
  readonly hours?: number;
  /** How far back the store accepts readings (ms); the window starts after that. */
  readonly acceptsBackMs: number;
}

export class SimulatedWindowError extends Error {
  override readonly name = 'SimulatedWindowError';
}

const minutesOf = (hhmm: string) => {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  return h * 60 + m;
};
const hhmmOf = (minutes: number) =>
  `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;

/** The default simulated hours of a weekday: two hours before opening to one hour after closing. */
export function defaultHours(policy: Pick<ComfortPolicy, 'schedule'>, day: Weekday): number {
  const open = openingHours(policy, day) ?? NO_SCHEDULE;
  const start = Math.max(0, minutesOf(open.from) - LEAD_HOURS * 60);
  return (minutesOf(open.to) + TRAIL_HOURS * 60 - start) / 60;
}

export function simulatedWindow(
  policy: Pick<ComfortPolicy, 'schedule' | 'timezone'>,
  o: WindowOptions,
): SimulatedWindow {
  const day = o.day ?? policy.schedule[0]?.days[0] ?? 'mon';
  const open = openingHours(policy, day) ?? NO_SCHEDULE;
  const startMinutes = Math.max(0, minutesOf(open.from) - LEAD_HOURS * 60);
  const hours = o.hours ?? defaultHours(policy, day);
  const length = Math.round(hours * HOUR);
  const earliest = o.now - o.acceptsBackMs;
  // Noon keeps the probe on the intended calendar day across daylight-saving changes.
  const today = localDateOf(o.now, policy.timezone);
  const noon = zonedEpoch(today, '12:00', policy.timezone);
  for (let k = 0; k <= 7; k++) {
    const date = localDateOf(noon - k * DAY, policy.timezone);
    if (date.weekday !== day) continue;
    const dayStart = zonedEpoch(date, '00:00', policy.timezone);
    const from = zonedEpoch(date, hhmmOf(startMinutes), policy.timezone);
    const to = from + length;
    if (to > o.now) continue;
    if (from < earliest) break;
    return {
      from,
      to,
      dayStart,
      date,
      fromHhmm: hhmmOf(startMinutes),
      toHhmm: hhmmOf(startMinutes + Math.round(hours * 60)),
    };
  }
  throw new SimulatedWindowError(
    `the store accepts readings only ${Math.round(o.acceptsBackMs / HOUR)} hours back, which holds no finished ${day}: pick a weekday of the last ${Math.floor(o.acceptsBackMs / DAY)} days with --day, or raise storage.memoryRetentionHours / magneticRetentionDays in the building config`,
  );
}
