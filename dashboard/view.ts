import {
  actuatorsOf,
  type BuildingConfig,
  devicesOf,
  isScheduledOccupied,
  SENSOR_KINDS,
  type SensorKind,
} from '../contracts';
import { DashboardInputError } from './errors';
import type { LiveEvents } from './live-events';
import type { PipelineReads } from './pipeline-reads';
import { latestReadingsQuery, zoneSeriesQuery } from './queries';

/**
 * What the dashboard's two read APIs answer: the state of every zone (latest readings,
 * setpoint in force, desired and reported actuator state, overrides), the devices, the
 * commands and the dead-letter queue; and one measure's series per zone for the charts.
 */

export interface DashboardFigures {
  readonly books?: { published: number; stored: number; deadLettered: number; inFlight: number };
  readonly commandsIssued?: number;
  readonly commandsApplied?: number;
  readonly energy?: { controlledKWh: number; baselineKWh: number };
  /**
   * Per zone: the share of occupied time within the comfort band under the zone controller and
   * under the fixed schedule (0-1, null when nobody was there yet), and the occupied hours.
   */
  readonly comfort?: Record<
    string,
    { readonly controlled: number | null; readonly baseline: number | null; readonly occupiedHours: number }
  >;
  readonly simulatedTime?: number;
  readonly stored?: number;
}

export interface ViewSources {
  readonly config: BuildingConfig;
  readonly reads: PipelineReads;
  readonly live: LiveEvents;
  readonly database: string;
  readonly table: string;
  /** Time the readings are taken at: the simulated clock in the demo, else the wall clock. */
  readonly clock: () => number;
  /** Whether `clock` is a simulated clock (its time is shown). */
  readonly simulated: boolean;
  readonly figures?: () => DashboardFigures;
  /** Hours of history the charts show. */
  readonly chartHours: number;
}

/** How far back the latest reading of a zone is looked for. */
const LATEST_WITHIN_MS = 6 * 3_600_000;

export async function dashboardState(s: ViewSources) {
  const { config } = s;
  const now = s.clock();
  // What the bus saw, taken with `now` before any query runs: the simulated clock moves on while
  // the queries do, and the page must not show a command dated after the time it shows.
  const commands = [...s.live.commands];
  const presence = new Map(devicesOf(config).map((d) => [d.thing, s.live.presence(d.thing)]));
  const policy = config.comfort;
  const scheduled = isScheduledOccupied(policy, now);
  const rows = await s.reads.query(latestReadingsQuery(s.database, s.table, now - LATEST_WITHIN_MS, now));
  const latest = new Map<string, Partial<Record<SensorKind, number>> & { at?: number }>();
  for (const row of rows) {
    const zone = row.zone ?? '';
    const entry = latest.get(zone) ?? {};
    for (const kind of SENSOR_KINDS) {
      const v = row[kind];
      if (v !== undefined && entry[kind] === undefined) entry[kind] = Number(v);
    }
    entry.at ??= parseTimestreamTime(row.time);
    latest.set(zone, entry);
  }
  const shadowByThing = new Map(
    await Promise.all(
      actuatorsOf(config).map(async (a) => [a.thing, await s.reads.commandShadow(a.thing)] as const),
    ),
  );
  const zones = config.zones.map((zone) => ({
    id: zone.id,
    name: zone.name,
    floor: zone.floor,
    readings: latest.get(zone.id) ?? {},
    setpoint: scheduled ? policy.occupiedSetpoint : policy.unoccupiedSetpoint,
    comfortBand: policy.comfortBand,
    co2Limit: policy.co2Limit,
    co2HighLimit: policy.co2HighLimit,
    scheduledOccupied: scheduled,
    actuators: zone.devices.flatMap((d) =>
      d.drives.map((kind) => {
        const shadow = shadowByThing.get(d.thing);
        const until = shadow?.desired.override?.[kind] ?? undefined;
        return {
          thing: d.thing,
          kind,
          desired: shadow?.desired[kind],
          reported: shadow?.reported[kind],
          overrideUntil: until && until > now ? until : undefined,
          mode: shadow?.reported.mode,
          rejected: shadow?.reported.rejected?.[kind],
        };
      }),
    ),
  }));
  return {
    /** Wall-clock time of this answer: about the software (is the page live), not the building. */
    generatedAt: Date.now(),
    /** The building's time: every time below (readings, commands, dead letters, overrides) is on it. */
    now,
    simulated: s.simulated,
    building: { id: config.buildingId, name: config.name, timezone: policy.timezone },
    zones,
    devices: devicesOf(config).map((d) => {
      const p = presence.get(d.thing) ?? { connected: false };
      return {
        thing: d.thing,
        zone: d.zone,
        connected: p.connected,
        since: p.since,
        lastReading: p.lastReading,
        lastReport: p.lastReport,
        senses: d.senses.length > 0,
      };
    }),
    commands,
    deadLetters: await s.reads.deadLetters(),
    figures: { ...(s.figures?.() ?? {}), simulatedTime: s.simulated ? now : undefined },
  };
}

/** One measure averaged per zone in time bins, aligned on one time axis for the charts. */
export async function zoneSeries(s: ViewSources, measure: string) {
  if (!(SENSOR_KINDS as readonly string[]).includes(measure)) {
    throw new DashboardInputError(`unknown measure '${measure}'; expected one of ${SENSOR_KINDS.join(', ')}`);
  }
  const now = s.clock();
  const hours = s.chartHours;
  const binMinutes = hours > 6 ? 15 : 5;
  const rows = await s.reads.query(
    zoneSeriesQuery(s.database, s.table, measure as SensorKind, now - hours * 3_600_000, now, binMinutes),
  );
  const times = [...new Set(rows.map((r) => parseTimestreamTime(r.t)))].sort((a, b) => a - b);
  const index = new Map(times.map((t, i) => [t, i]));
  const values: Record<string, Array<number | null>> = {};
  for (const zone of s.config.zones) values[zone.id] = times.map(() => null);
  for (const row of rows) {
    const arr = values[row.zone ?? ''];
    const i = index.get(parseTimestreamTime(row.t));
    if (arr && i !== undefined && row.v !== undefined) arr[i] = Math.round(Number(row.v) * 100) / 100;
  }
  return { t: times, values };
}

/** Timestream returns '2026-11-23 20:00:00.000000000' (UTC). */
export function parseTimestreamTime(value: string | undefined): number {
  if (!value) return Number.NaN;
  return Date.parse(`${value.replace(' ', 'T').slice(0, 23)}Z`);
}
