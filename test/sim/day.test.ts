/** Which day the demo simulates: fixed by the options and the schedule, not by the hour it starts. */
import { describe, expect, it } from 'vitest';
import { ComfortPolicySchema } from '../../contracts';
import { defaultHours, SimulatedWindowError, simulatedWindow } from '../../sim/day';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const policy = (timezone: string, days: string[] = ['mon', 'tue', 'wed', 'thu', 'fri']) =>
  ComfortPolicySchema.parse({
    occupiedSetpoint: 21,
    unoccupiedSetpoint: 17,
    co2Limit: 900,
    co2HighLimit: 1300,
    lightingLux: 400,
    timezone,
    schedule: [{ days, from: '07:00', to: '19:00' }],
  });
/** Friday 2026-11-27 10:47 UTC. */
const FRIDAY = Date.UTC(2026, 10, 27, 10, 47);
const WEEK = 7 * DAY;

describe('the simulated window', () => {
  it('is the last finished first weekday of the schedule, from two hours before opening to one after closing', () => {
    const w = simulatedWindow(policy('UTC'), { now: FRIDAY, acceptsBackMs: 365 * DAY });
    expect(w.date).toEqual({ year: 2026, month: 11, day: 23, weekday: 'mon' });
    expect(w.from).toBe(Date.UTC(2026, 10, 23, 5, 0));
    expect(w.to).toBe(Date.UTC(2026, 10, 23, 20, 0));
    expect(w.dayStart).toBe(Date.UTC(2026, 10, 23, 0, 0));
    expect([w.fromHhmm, w.toHhmm]).toEqual(['05:00', '20:00']);
  });

  it('does not depend on the hour it is asked: any time of the same week gives the same day', () => {
    const windows = [0, 1, 5, 11, 17, 23].map((h) =>
      simulatedWindow(policy('UTC'), { now: Date.UTC(2026, 10, 25, h, 13), acceptsBackMs: 365 * DAY }),
    );
    for (const w of windows) expect(w.from).toBe(windows[0]?.from);
  });

  it('gives the same time of day a week later, on the next date', () => {
    const a = simulatedWindow(policy('UTC'), { now: FRIDAY, acceptsBackMs: 365 * DAY });
    const b = simulatedWindow(policy('UTC'), { now: FRIDAY + WEEK, acceptsBackMs: 365 * DAY });
    expect(b.from - a.from).toBe(WEEK);
    expect(b.from - b.dayStart).toBe(a.from - a.dayStart);
  });

  it('never ends in the future: on the chosen weekday before the window is over, it takes the week before', () => {
    const mondayNoon = Date.UTC(2026, 10, 30, 12, 0);
    const w = simulatedWindow(policy('UTC'), { now: mondayNoon, acceptsBackMs: 365 * DAY });
    expect(w.date.day).toBe(23);
    const mondayNight = Date.UTC(2026, 10, 30, 21, 0);
    expect(simulatedWindow(policy('UTC'), { now: mondayNight, acceptsBackMs: 365 * DAY }).date.day).toBe(30);
  });

  it('follows the building time zone', () => {
    const w = simulatedWindow(policy('Europe/Berlin'), { now: FRIDAY, acceptsBackMs: 365 * DAY });
    expect(w.from).toBe(Date.UTC(2026, 10, 23, 4, 0)); // 05:00 in Berlin (UTC+1 in November)
    expect(w.dayStart).toBe(Date.UTC(2026, 10, 22, 23, 0));
  });

  it('takes the weekday and the hours asked for', () => {
    const w = simulatedWindow(policy('UTC'), { now: FRIDAY, day: 'wed', hours: 6, acceptsBackMs: 365 * DAY });
    expect(w.date.weekday).toBe('wed');
    expect(w.to - w.from).toBe(6 * HOUR);
    expect(w.toHhmm).toBe('11:00');
  });

  it('simulates a day off from 05:00 to 20:00 too', () => {
    expect(defaultHours(policy('UTC'), 'sun')).toBe(15);
    const w = simulatedWindow(policy('UTC'), { now: FRIDAY, day: 'sun', acceptsBackMs: 365 * DAY });
    expect([w.date.weekday, w.fromHhmm]).toEqual(['sun', '05:00']);
  });

  it('refuses a weekday the store no longer accepts readings for, saying what to change', () => {
    expect(() => simulatedWindow(policy('UTC'), { now: FRIDAY, acceptsBackMs: 48 * HOUR })).toThrow(
      SimulatedWindowError,
    );
    expect(() => simulatedWindow(policy('UTC'), { now: FRIDAY, acceptsBackMs: 48 * HOUR })).toThrow(
      /48 hours back.*--day.*memoryRetentionHours/,
    );
    expect(
      simulatedWindow(policy('UTC'), { now: FRIDAY, day: 'thu', acceptsBackMs: 48 * HOUR }).date.day,
    ).toBe(26);
  });
});
