import { describe, expect, it } from 'vitest';
import { ComfortPolicySchema, isScheduledOccupied, localTime } from '../../contracts';

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
