/**
 * The dashboard's answers and checks without HTTP or a pipeline: operator overrides refused
 * with their reason, the state and series shaped from what the pipeline APIs return.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseBuildingConfigText } from '../../contracts';
import { DashboardInputError } from '../../dashboard/errors';
import type { LiveEvents } from '../../dashboard/live-events';
import { planOverride } from '../../dashboard/override';
import type { PipelineReads } from '../../dashboard/pipeline-reads';
import type { BinnedValue, LatestReading, ReadingsReader } from '../../dashboard/readings/reader';
import { parseTimestreamTime } from '../../dashboard/readings/timestream-reader';
import { dashboardState, type ViewSources, zoneSeries } from '../../dashboard/view';

const config = parseBuildingConfigText(readFileSync('building.json', 'utf8'), 'building.json');
const NOW = Date.parse('2026-11-23T10:00:00Z');

function sources(
  rows: { latest?: LatestReading[]; series?: BinnedValue[] },
  over: Partial<ViewSources> = {},
): ViewSources {
  const readings: ReadingsReader = {
    engine: 'timestream',
    latest: async () => rows.latest ?? [],
    series: async () => rows.series ?? [],
    countStored: async () => 0,
    close: () => {},
  };
  const reads: PipelineReads = {
    commandShadow: async (thing) =>
      thing === 'hq-lobby-hvac'
        ? {
            desired: { heating: 'on', override: { heating: NOW + 60_000 } },
            reported: { heating: 'off', mode: 'cloud' },
          }
        : { desired: {}, reported: {} },
    updateDesired: async () => {},
    deadLetters: async () => ({ count: 0, latest: [] }),
    close: () => {},
  };
  const live: LiveEvents = {
    presence: (thing) =>
      thing === 'hq-lobby-climate' ? { connected: true, since: NOW } : { connected: false },
    commands: [],
    close: () => {},
  };
  return {
    config,
    reads,
    readings,
    live,
    clock: () => NOW,
    simulated: true,
    chartHours: 24,
    ...over,
  };
}

const refusal = (body: unknown): string => {
  try {
    planOverride(config, body, NOW);
  } catch (err) {
    if (err instanceof DashboardInputError) return err.message;
    throw err;
  }
  throw new Error('the override was accepted');
};

describe('operator override', () => {
  it('targets every device of the zone that drives the kind, until now + minutes', () => {
    expect(planOverride(config, { zone: 'lobby', kind: 'heating', value: 'on', minutes: 30 }, NOW)).toEqual({
      kind: 'heating',
      value: 'on',
      until: NOW + 30 * 60_000,
      things: ['hq-lobby-hvac'],
    });
  });

  it('refuses an unknown zone', () => {
    expect(refusal({ zone: 'attic', kind: 'heating', value: 'on', minutes: 5 })).toBe("unknown zone 'attic'");
  });

  it('refuses an unknown actuator, listing the known ones', () => {
    expect(refusal({ zone: 'lobby', kind: 'blinds', value: 1, minutes: 5 })).toBe(
      "unknown actuator 'blinds'; expected one of heating, ventilation, lighting",
    );
  });

  it('refuses minutes beyond the building’s longest override', () => {
    expect(refusal({ zone: 'lobby', kind: 'heating', value: 'on', minutes: 241 })).toMatch(
      /between 0 and 240 \(comfort.maxOverrideMinutes\)/,
    );
    expect(refusal({ zone: 'lobby', kind: 'heating', value: 'on', minutes: 'soon' })).toMatch(/minutes/);
  });

  it('refuses a value the actuator cannot take, saying what it expects', () => {
    expect(refusal({ zone: 'lobby', kind: 'lighting', value: 150, minutes: 5 })).toMatch(/at most 100/);
  });

  it('refuses a request that is no object', () => {
    expect(refusal(null)).toBe("unknown zone 'undefined'");
  });
});

describe('dashboard state', () => {
  it('shows each zone’s latest readings, setpoint in force, actuators and device presence', async () => {
    const state = await dashboardState(
      sources({
        latest: [
          {
            zone: 'lobby',
            thing: 'hq-lobby-climate',
            at: Date.parse('2026-11-23T09:59:00Z'),
            values: { temperature: 20.5 },
          },
          {
            zone: 'lobby',
            thing: 'hq-lobby-climate',
            at: Date.parse('2026-11-23T09:58:00Z'),
            values: { temperature: 19, co2: 700 },
          },
        ],
      }),
    );
    const lobby = state.zones.find((z) => z.id === 'lobby')!;
    expect(lobby.readings).toEqual({ temperature: 20.5, co2: 700, at: Date.parse('2026-11-23T09:59:00Z') });
    expect(lobby).toMatchObject({ scheduledOccupied: true, setpoint: config.comfort.occupiedSetpoint });
    expect(lobby.actuators.find((a) => a.kind === 'heating')).toMatchObject({
      thing: 'hq-lobby-hvac',
      desired: 'on',
      reported: 'off',
      mode: 'cloud',
    });
    expect(state.devices.find((d) => d.thing === 'hq-lobby-climate')).toMatchObject({ connected: true });
    expect(state.devices.find((d) => d.thing === 'hq-lobby-hvac')).toMatchObject({ connected: false });
    expect(state.figures.simulatedTime).toBe(NOW);
  });

  it('uses the setback setpoint outside scheduled hours', async () => {
    const night = Date.parse('2026-11-23T22:00:00Z');
    const state = await dashboardState(sources({}, { clock: () => night }));
    for (const zone of state.zones) {
      expect(zone).toMatchObject({ scheduledOccupied: false, setpoint: config.comfort.unoccupiedSetpoint });
    }
  });
});

describe('chart series', () => {
  it('aligns every zone on one time axis, with null where a zone has no value', async () => {
    const series = await zoneSeries(
      sources({
        series: [
          { zone: 'lobby', t: Date.parse('2026-11-23T09:00:00Z'), v: 20.123 },
          { zone: 'lobby', t: Date.parse('2026-11-23T09:15:00Z'), v: 20.5 },
          { zone: 'meeting-a', t: Date.parse('2026-11-23T09:15:00Z'), v: 22 },
        ],
      }),
      'temperature',
    );
    expect(series.t).toEqual([Date.parse('2026-11-23T09:00:00Z'), Date.parse('2026-11-23T09:15:00Z')]);
    expect(series.values.lobby).toEqual([20.12, 20.5]);
    expect(series.values['meeting-a']).toEqual([null, 22]);
  });

  it('refuses an unknown measure, listing the known ones', async () => {
    await expect(zoneSeries(sources({}), 'pressure')).rejects.toThrow(
      "unknown measure 'pressure'; expected one of temperature, humidity, occupancy, co2, light",
    );
  });

  it('reads Timestream timestamps as UTC', () => {
    expect(parseTimestreamTime('2026-11-23 20:00:00.000000000')).toBe(Date.parse('2026-11-23T20:00:00Z'));
    expect(parseTimestreamTime(undefined)).toBeNaN();
  });
});
