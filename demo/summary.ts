import type { Weekday } from '../contracts';
import type { ZoneComfort } from '../sim/comparison';
import type { Books } from './books';
import type { CommandCounts } from './commands';

/**
 * What a demo run reports. `formatSummary` prints what the run computed: the books, commands,
 * energy and comfort; the same options give the same text, byte for byte, on every run and
 * every machine. `formatRun` prints what depends on the machine and the date (wall-clock times,
 * the calendar date simulated), apart from it.
 */

export interface DemoSummary {
  readonly seed: number;
  readonly window: {
    readonly from: number;
    readonly to: number;
    /** Where the simulation stopped: `to`, or earlier when stopped before the end. */
    readonly reached: number;
    readonly weekday: Weekday;
    /** YYYY-MM-DD in the building's time zone. */
    readonly date: string;
    readonly fromHhmm: string;
    readonly toHhmm: string;
    readonly timezone: string;
  };
  readonly books: Books;
  readonly messages: number;
  readonly commands: CommandCounts;
  readonly energy: { readonly controlledKWh: number; readonly baselineKWh: number };
  readonly comfort: Readonly<Record<string, ZoneComfort>>;
  readonly run: {
    readonly startupMs: number;
    /** Wall-clock time the simulated window took. */
    readonly simulatedInMs: number;
    /** Steps at which the pipeline did not settle in time (the run may not repeat exactly). */
    readonly settleTimeouts: number;
  };
}

const WEEKDAY_NAMES: Record<Weekday, string> = {
  mon: 'Monday',
  tue: 'Tuesday',
  wed: 'Wednesday',
  thu: 'Thursday',
  fri: 'Friday',
  sat: 'Saturday',
  sun: 'Sunday',
};

const pct = (v: number | null) => (v === null ? '   n/a' : `${(v * 100).toFixed(1).padStart(5)}%`);

/** Energy saved by the controller against the fixed schedule, 0-1 (negative when it used more). */
export function energySaving(energy: DemoSummary['energy']): number {
  return energy.baselineKWh > 0 ? 1 - energy.controlledKWh / energy.baselineKWh : 0;
}

function simulatedSpan(s: DemoSummary): string {
  const hours = (s.window.reached - s.window.from) / 3_600_000;
  const planned = (s.window.to - s.window.from) / 3_600_000;
  return s.window.reached >= s.window.to
    ? `${hours.toFixed(1)} simulated hours`
    : `${hours.toFixed(1)} of ${planned.toFixed(1)} simulated hours (stopped early)`;
}

/** The books and KPIs: identical for identical options. */
export function formatSummary(s: DemoSummary): string {
  const b = s.books;
  const c = s.commands;
  const saving = energySaving(s.energy);
  const lines = [
    `Summary: a simulated ${WEEKDAY_NAMES[s.window.weekday]}, ${s.window.fromHhmm}-${s.window.toHhmm} building time (${s.window.timezone}), seed ${s.seed}`,
    `  simulated          ${simulatedSpan(s)}`,
    `  readings published ${b.published} (in ${s.messages} MQTT messages)`,
    `  readings stored    ${b.stored}`,
    `  dead-lettered      ${b.deadLettered}`,
    ...Object.entries(b.deadLetterReasons)
      .sort(([x], [y]) => x.localeCompare(y))
      .map(([reason, n]) => `      ${n} x ${reason}`),
    `  published - stored - dead-lettered = ${b.unaccounted}${b.unaccounted === 0 ? ' (the books balance)' : ' (NOT balanced: readings unaccounted for)'}`,
    ...(b.pending > 0 ? [`  readings still buffered on devices: ${b.pending}`] : []),
    ...(b.dropped > 0 ? [`  readings dropped by full device buffers: ${b.dropped}`] : []),
    `  commands issued    ${c.issued} (applied by the devices ${c.applied}, replaced before applied ${c.superseded}, on their way ${c.outstanding})`,
    `  commands repeated  ${c.repeated} (a value a device had already applied, sent again in a shadow delta)`,
    `  energy (simulation) ${s.energy.controlledKWh.toFixed(1)} kWh with the zone controller, ${s.energy.baselineKWh.toFixed(1)} kWh with a fixed schedule (${Math.abs(saving * 100).toFixed(0)}% ${saving >= 0 ? 'less' : 'more'})`,
    '  comfort (simulation): share of occupied time within the comfort band',
    ...Object.entries(s.comfort).map(([zone, z]) =>
      z.occupiedHours === 0
        ? `      ${zone.padEnd(14)} nobody was in the zone: no comfort figure`
        : `      ${zone.padEnd(14)} controller ${pct(z.controlled)}   fixed schedule ${pct(z.baseline)}   over ${z.occupiedHours.toFixed(1)} occupied hours`,
    ),
    '  Energy and comfort are results of a simulated building and day, not a promise for a real one.',
  ];
  return lines.join('\n');
}

/** What depends on the machine and the date: kept apart from the summary. */
export function formatRun(s: DemoSummary): string {
  const lines = [
    `Run: simulated ${s.window.date} (${s.window.timezone}); ready in ${(s.run.startupMs / 1000).toFixed(1)} s, the simulated time took ${(s.run.simulatedInMs / 1000).toFixed(1)} s of wall-clock time`,
  ];
  if (s.run.settleTimeouts > 0) {
    lines.push(
      `  warning: the pipeline did not settle in time at ${s.run.settleTimeouts} step(s); this run may not repeat exactly (see the log)`,
    );
  }
  return lines.join('\n');
}
