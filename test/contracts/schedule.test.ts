import { describe, expect, it } from 'vitest';
import {
  ComfortPolicySchema,
  isScheduledOccupied,
  localDateOf,
  localTime,
  nextOpening,
  openingHours,
  zonedEpoch,
} from '../../contracts';

/** Weekdays 07:00-19:00 in Europe/Berlin. */
const POLICY = ComfortPolicySchema.parse({
  occupiedSetpoint: 21,
  unoccupiedSetpoint: 17,
  co2Limit: 900,
  co2HighLimit: 1300,
  lightingLux: 400,
  timezone: 'Europe/Berlin',
  schedule: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '07:00', to: '19:00' }],
});
/** Wednesday 2026-03-11 10:00 and 22:00 in Berlin (09:00 and 21:00 UTC). */
const WEDNESDAY_10_BERLIN = Date.UTC(2026, 2, 11, 9, 0);
const WEDNESDAY_22_BERLIN = Date.UTC(2026, 2, 11, 21, 0);

describe('comfort schedule', () => {
  it('counts a weekday morning in the policy time zone as occupied', () => {
    expect(isScheduledOccupied(POLICY, WEDNESDAY_10_BERLIN)).toBe(true);
  });

  it('counts a weekday night as unoccupied', () => {
    expect(isScheduledOccupied(POLICY, WEDNESDAY_22_BERLIN)).toBe(false);
  });

  it('reads the schedule in the policy time zone, not UTC', () => {
    // 06:30 UTC is 07:30 in Berlin (scheduled) but before 07:00 in UTC.
    const at = Date.UTC(2026, 2, 11, 6, 30);
    expect(isScheduledOccupied(POLICY, at)).toBe(true);
    expect(isScheduledOccupied({ ...POLICY, timezone: 'UTC' }, at)).toBe(false);
  });

  it('treats the start time as inclusive and the end time as exclusive', () => {
    expect(isScheduledOccupied(POLICY, Date.UTC(2026, 2, 11, 6, 0))).toBe(true); // 07:00 Berlin
    expect(isScheduledOccupied(POLICY, Date.UTC(2026, 2, 11, 17, 59))).toBe(true);
    expect(isScheduledOccupied(POLICY, Date.UTC(2026, 2, 11, 18, 0))).toBe(false); // 19:00 Berlin
  });

  it('counts a Saturday as unoccupied when the schedule lists weekdays only', () => {
    expect(isScheduledOccupied(POLICY, Date.UTC(2026, 2, 14, 9, 0))).toBe(false);
  });

  it('counts midnight as 00:00 of the new day, so an all-day entry covers it', () => {
    const allDay = { timezone: 'UTC', schedule: [{ days: ['thu' as const], from: '00:00', to: '23:59' }] };
    expect(localTime(Date.UTC(2026, 2, 12, 0, 0), 'UTC')).toEqual({ day: 'thu', hhmm: '00:00' });
    expect(isScheduledOccupied(allDay, Date.UTC(2026, 2, 12, 0, 0))).toBe(true);
    expect(isScheduledOccupied(allDay, Date.UTC(2026, 2, 11, 23, 59))).toBe(false);
  });
});

describe('local dates and openings', () => {
  it('names the calendar date of an instant in the policy time zone', () => {
    // 23:30 UTC on Tuesday 2026-03-10 is 00:30 on Wednesday in Berlin.
    expect(localDateOf(Date.UTC(2026, 2, 10, 23, 30), 'Europe/Berlin')).toEqual({
      year: 2026,
      month: 3,
      day: 11,
      weekday: 'wed',
    });
  });

  it('turns a local date and time into the instant, across daylight-saving time', () => {
    expect(zonedEpoch({ year: 2026, month: 3, day: 11 }, '07:00', 'Europe/Berlin')).toBe(
      Date.UTC(2026, 2, 11, 6, 0),
    );
    expect(zonedEpoch({ year: 2026, month: 7, day: 1 }, '07:00', 'Europe/Berlin')).toBe(
      Date.UTC(2026, 6, 1, 5, 0),
    );
    expect(zonedEpoch({ year: 2026, month: 7, day: 1 }, '00:00', 'UTC')).toBe(Date.UTC(2026, 6, 1, 0, 0));
    expect(zonedEpoch({ year: 2026, month: 7, day: 1 }, '05:30', 'Asia/Kolkata')).toBe(
      Date.UTC(2026, 6, 1, 0, 0),
    );
    // 02:30 does not exist on 2026-03-29 in Berlin: the instant after the gap.
    expect(zonedEpoch({ year: 2026, month: 3, day: 29 }, '03:00', 'Europe/Berlin')).toBe(
      Date.UTC(2026, 2, 29, 1, 0),
    );
  });

  it('gives the opening hours of a weekday, none on a day off', () => {
    const split = {
      schedule: [
        { days: ['mon' as const], from: '13:00', to: '18:00' },
        { days: ['mon' as const], from: '08:00', to: '12:00' },
      ],
    };
    expect(openingHours(split, 'mon')).toEqual({ from: '08:00', to: '18:00' });
    expect(openingHours(split, 'sun')).toBeUndefined();
  });

  it('finds the next opening: later today, on the next working day, or none', () => {
    // Wednesday 05:00 Berlin -> 07:00 the same day.
    expect(nextOpening(POLICY, Date.UTC(2026, 2, 11, 4, 0))).toBe(Date.UTC(2026, 2, 11, 6, 0));
    // Wednesday 22:00 Berlin -> Thursday 07:00.
    expect(nextOpening(POLICY, WEDNESDAY_22_BERLIN)).toBe(Date.UTC(2026, 2, 12, 6, 0));
    // Friday evening -> Monday 07:00.
    expect(nextOpening(POLICY, Date.UTC(2026, 2, 13, 20, 0))).toBe(Date.UTC(2026, 2, 16, 6, 0));
    // At the opening itself.
    expect(nextOpening(POLICY, Date.UTC(2026, 2, 11, 6, 0))).toBe(Date.UTC(2026, 2, 11, 6, 0));
    expect(nextOpening({ ...POLICY, schedule: [] }, WEDNESDAY_22_BERLIN)).toBeUndefined();
  });
});

describe('local time, reused within a minute', () => {
  it('gives what a fresh formatter gives for every instant, in any order, across a DST change', () => {
    const fresh = (at: number, timeZone: string) => {
      const parts = new Intl.DateTimeFormat('en-US', {
        timeZone,
        weekday: 'short',
        hour: '2-digit',
        minute: '2-digit',
        hourCycle: 'h23',
      }).formatToParts(new Date(at));
      const part = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
      return { day: part('weekday').toLowerCase().slice(0, 3), hhmm: `${part('hour')}:${part('minute')}` };
    };
    // Europe/Berlin and America/New_York both change clocks on these days in 2026.
    const cases: Array<[string, number]> = [
      ['Europe/Berlin', Date.UTC(2026, 2, 29, 0, 57)],
      ['America/New_York', Date.UTC(2026, 10, 1, 5, 57)],
      ['Asia/Kolkata', Date.UTC(2026, 0, 1, 18, 28)],
    ];
    for (const [zone, start] of cases) {
      // 7 s steps over 8 minutes, then the same instants backwards and interleaved with another zone.
      const instants = Array.from({ length: 70 }, (_, i) => start + i * 7_000);
      for (const at of [...instants, ...instants.reverse()]) {
        expect(localTime(at, zone)).toEqual(fresh(at, zone));
        expect(localTime(at, 'UTC')).toEqual(fresh(at, 'UTC'));
      }
    }
  });
});
