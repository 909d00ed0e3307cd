import type { ComfortPolicy, Weekday } from '../contracts';

const WEEKDAY_BY_SHORT: Record<string, Weekday> = {
  Mon: 'mon',
  Tue: 'tue',
  Wed: 'wed',
  Thu: 'thu',
  Fri: 'fri',
  Sat: 'sat',
  Sun: 'sun',
};

/** True when the comfort schedule says the building is occupied at `at` (epoch ms), in the policy's time zone. */
export function isScheduledOccupied(
  policy: Pick<ComfortPolicy, 'schedule' | 'timezone'>,
  at: number,
): boolean {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: policy.timezone,
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(at));
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  const day = WEEKDAY_BY_SHORT[get('weekday')];
  const hhmm = `${get('hour')}:${get('minute')}`;
  return policy.schedule.some(
    (s) => day !== undefined && s.days.includes(day) && hhmm >= s.from && hhmm < s.to,
  );
}
