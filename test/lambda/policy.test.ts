import { describe, expect, it } from 'vitest';
import { type ActuatorState, parseBuildingConfigText } from '../../contracts';
import {
  decide,
  decideHeating,
  decideLighting,
  decideVentilation,
  heatingSetpoint,
  LIGHTING_STEP,
  latestMeasures,
  type PolicyInput,
} from '../../lambda/controller/policy';
import { POLICY, WEDNESDAY_10_BERLIN } from './fixtures';

const ALL = ['heating', 'ventilation', 'lighting'] as const;

function input(over: Partial<PolicyInput>): PolicyInput {
  return { measures: {}, now: WEDNESDAY_10_BERLIN, policy: POLICY, current: {}, drives: ALL, ...over };
}

describe('heating setpoint by schedule', () => {
  it('uses the occupied setpoint in scheduled hours and the setback outside them', () => {
    // 19 degC: below 21 - 0.5 but above 17 + 0.5.
    expect(decideHeating({ temperature: 19 }, 21, POLICY, 'off')).toBe('on');
    expect(decideHeating({ temperature: 19 }, 17, POLICY, 'on')).toBe('off');
    expect(heatingSetpoint(POLICY, WEDNESDAY_10_BERLIN)).toBe(21);
    expect(heatingSetpoint(POLICY, Date.UTC(2026, 2, 11, 21, 0))).toBe(17); // 22:00 Berlin
  });
});

describe('optimal start: pre-heating before opening', () => {
  /** Wednesday 2026-03-11 in Berlin (UTC+1): 07:00 opening is 06:00 UTC. */
  const berlin = (hh: number, mm = 0) => Date.UTC(2026, 2, 11, hh - 1, mm);

  it('ramps the setpoint up at preheatRate to reach the occupied setpoint at opening', () => {
    expect(POLICY.preheatRate).toBe(2);
    expect(heatingSetpoint(POLICY, berlin(4, 30))).toBe(17); // 2.5 h before: the ramp starts 2 h before
    expect(heatingSetpoint(POLICY, berlin(5, 0))).toBe(17);
    expect(heatingSetpoint(POLICY, berlin(5, 30))).toBe(18);
    expect(heatingSetpoint(POLICY, berlin(6, 0))).toBe(19);
    expect(heatingSetpoint(POLICY, berlin(6, 45))).toBe(20.5);
    expect(heatingSetpoint(POLICY, berlin(7, 0))).toBe(21);
  });

  it('starts heating a cold zone early and a warm one only when its temperature needs it', () => {
    const heating = (t: number, at: number) =>
      decide(
        input({ measures: { temperature: t }, now: at, current: { heating: 'off' }, drives: ['heating'] }),
      ).changes.heating;
    // 17.2 degC at 05:30: below the ramp's 18 - 0.5.
    expect(heating(17.2, berlin(5, 30))).toBe('on');
    // 18.6 degC at 05:30: warm enough for now; at 06:30 (setpoint 20) it is not.
    expect(heating(18.6, berlin(5, 30))).toBeUndefined();
    expect(heating(18.6, berlin(6, 30))).toBe('on');
  });

  it('looks across days: the evening before a working day and a Friday night do not pre-heat', () => {
    expect(heatingSetpoint(POLICY, berlin(23, 0))).toBe(17);
    expect(heatingSetpoint(POLICY, Date.UTC(2026, 2, 14, 5, 30))).toBe(17); // Saturday 06:30
    // Monday 06:30 after a weekend: ramping.
    expect(heatingSetpoint(POLICY, Date.UTC(2026, 2, 16, 5, 30))).toBe(20);
  });

  it('does not pre-heat when preheatRate is 0', () => {
    expect(heatingSetpoint({ ...POLICY, preheatRate: 0 }, berlin(6, 45))).toBe(17);
  });
});

describe('free cooling by ventilation', () => {
  const vent = (temperature: number, current: 'off' | 'low' | 'high', co2 = 600) =>
    decideVentilation({ temperature, co2, occupancy: 5 }, true, POLICY, current);

  it('ventilates high when an occupied zone reaches setpoint + band - hysteresis', () => {
    expect(vent(22.0, 'low')).toBe('high');
    expect(vent(21.9, 'low')).toBe('low');
  });

  it('keeps cooling until the zone is back below setpoint + hysteresis, then follows CO2', () => {
    expect(vent(21.6, 'high')).toBe('high');
    expect(vent(21.4, 'high')).toBe('low');
  });

  it('does not cool outside scheduled hours or without a temperature reading', () => {
    expect(decideVentilation({ temperature: 23, co2: 600, occupancy: 0 }, false, POLICY, 'off')).toBe('off');
    expect(decideVentilation({ co2: 600, occupancy: 5 }, true, POLICY, 'low')).toBe('low');
  });
});

describe('heating hysteresis', () => {
  it('switches heating on below setpoint minus hysteresis', () => {
    expect(decideHeating({ temperature: 20.4 }, 21, POLICY, 'off')).toBe('on');
  });

  it('switches heating off above setpoint plus hysteresis', () => {
    expect(decideHeating({ temperature: 21.6 }, 21, POLICY, 'on')).toBe('off');
  });

  it('keeps heating on while the temperature rises through the dead band', () => {
    for (const t of [20.5, 20.8, 21, 21.3, 21.5]) {
      expect(decideHeating({ temperature: t }, 21, POLICY, 'on')).toBe('on');
    }
  });

  it('keeps heating off while the temperature falls through the dead band', () => {
    for (const t of [21.5, 21.2, 21, 20.7, 20.5]) {
      expect(decideHeating({ temperature: t }, 21, POLICY, 'off')).toBe('off');
    }
  });

  it('does not flap when the temperature wobbles inside the dead band', () => {
    let current: ActuatorState = { heating: 'on' };
    let writes = 0;
    for (const t of [20.6, 21.4, 20.6, 21.4, 21.0, 20.9]) {
      const { changes } = decide(input({ measures: { temperature: t }, current, drives: ['heating'] }));
      if (changes.heating) writes++;
      current = { ...current, ...changes };
    }
    expect(writes).toBe(0);
  });

  it('follows a full cycle: on when cold, held, off when warm, held, on when cold again', () => {
    let current: ActuatorState = { heating: 'off' };
    const seen: string[] = [];
    for (const t of [20, 21, 21.6, 21, 20.4]) {
      current = { ...current, ...decide(input({ measures: { temperature: t }, current })).changes };
      seen.push(current.heating!);
    }
    expect(seen).toEqual(['on', 'on', 'off', 'off', 'on']);
  });
});

describe('ventilation', () => {
  it('runs high at the high CO2 limit', () => {
    expect(decideVentilation({ co2: 1300 }, false, POLICY, 'off')).toBe('high');
  });

  it('runs at least low at the CO2 limit', () => {
    expect(decideVentilation({ co2: 900 }, false, POLICY, 'off')).toBe('low');
  });

  it('steps down from high only below the high limit minus hysteresis', () => {
    expect(decideVentilation({ co2: 1250 }, false, POLICY, 'high')).toBe('high');
    expect(decideVentilation({ co2: 1199 }, false, POLICY, 'high')).toBe('low');
  });

  it('steps down from low to off only below the limit minus hysteresis', () => {
    expect(decideVentilation({ co2: 850 }, false, POLICY, 'low')).toBe('low');
    expect(decideVentilation({ co2: 799 }, false, POLICY, 'low')).toBe('off');
  });

  it('stays off inside the dead band when it was off', () => {
    expect(decideVentilation({ co2: 850 }, false, POLICY, 'off')).toBe('off');
  });

  it('keeps at least low during scheduled hours while people are present', () => {
    expect(decideVentilation({ co2: 500, occupancy: 3 }, true, POLICY, 'off')).toBe('low');
  });

  it('switches off at low CO2 in scheduled hours when the zone reports nobody', () => {
    expect(decideVentilation({ co2: 500, occupancy: 0 }, true, POLICY, 'low')).toBe('off');
  });

  it('switches off at low CO2 outside scheduled hours even with people present', () => {
    expect(decideVentilation({ co2: 500, occupancy: 2 }, false, POLICY, 'low')).toBe('off');
  });

  it('does not flap between a CO2 sensor and an occupancy sensor of the same zone', () => {
    let current: ActuatorState = {};
    let writes = 0;
    const messages = [{ occupancy: 4 }, { co2: 600 }, { occupancy: 4 }, { co2: 620 }, { co2: 610 }];
    for (const measures of messages) {
      const { changes } = decide(input({ measures, current, drives: ['ventilation'] }));
      if (changes.ventilation) writes++;
      current = { ...current, ...changes };
    }
    expect(current.ventilation).toBe('low');
    expect(writes).toBe(1);
  });
});

describe('lighting', () => {
  it('switches lights off when the zone is empty', () => {
    expect(decideLighting({ occupancy: 0, light: 100 }, POLICY, 60)).toBe(0);
  });

  it('raises the level by one step when occupied and too dark', () => {
    expect(decideLighting({ occupancy: 2, light: 300 }, POLICY, 40)).toBe(40 + LIGHTING_STEP);
  });

  it('caps the level at 100', () => {
    expect(decideLighting({ occupancy: 2, light: 100 }, POLICY, 90)).toBe(100);
  });

  it('lowers the level by one step when too bright', () => {
    expect(decideLighting({ occupancy: 2, light: 600 }, POLICY, 60)).toBe(60 - LIGHTING_STEP);
  });

  it('keeps the level inside the dead band between 90 % and 130 % of the target', () => {
    for (const light of [361, 400, 519]) {
      expect(decideLighting({ occupancy: 2, light }, POLICY, 60)).toBe(60);
    }
  });

  it('does not raise the lights on a light reading without occupancy', () => {
    expect(decideLighting({ light: 100 }, POLICY, 40)).toBe(40);
  });

  it('decides nothing on an occupancy reading above zero without light', () => {
    expect(decideLighting({ occupancy: 3 }, POLICY, 40)).toBeUndefined();
  });
});

describe('decide', () => {
  it('decides heating only from a temperature-only message', () => {
    const { changes } = decide(input({ measures: { temperature: 15 }, current: { ventilation: 'high' } }));
    expect(changes).toEqual({ heating: 'on' });
  });

  it('returns only what changes', () => {
    const { changes } = decide(
      input({ measures: { temperature: 15, co2: 1400 }, current: { heating: 'on', ventilation: 'low' } }),
    );
    expect(changes).toEqual({ ventilation: 'high' });
  });

  it('decides only the kinds the actuator drives', () => {
    const { changes } = decide(
      input({ measures: { temperature: 15, occupancy: 0 }, current: { lighting: 50 }, drives: ['lighting'] }),
    );
    expect(changes).toEqual({ lighting: 0 });
  });

  it('leaves an actuator alone while its override runs', () => {
    const { changes, expiredOverrides } = decide(
      input({
        measures: { temperature: 15, occupancy: 0 },
        current: { heating: 'off', lighting: 80 },
        drives: ['heating', 'lighting'],
        overrides: { heating: { until: WEDNESDAY_10_BERLIN + 60_000 } },
      }),
    );
    expect(changes).toEqual({ lighting: 0 });
    expect(expiredOverrides).toEqual([]);
  });

  it('clears an expired override and resumes control in the same decision', () => {
    const { changes, expiredOverrides } = decide(
      input({
        measures: { temperature: 15 },
        current: { heating: 'off' },
        overrides: { heating: { until: WEDNESDAY_10_BERLIN - 1 } },
      }),
    );
    expect(expiredOverrides).toEqual(['heating']);
    expect(changes).toEqual({ heating: 'on' });
  });

  it('ends an override at maxOverrideMinutes after it was set, whatever end it asked for', () => {
    const setAt = WEDNESDAY_10_BERLIN - (POLICY.maxOverrideMinutes + 1) * 60_000;
    const { expiredOverrides } = decide(
      input({
        measures: { temperature: 15 },
        current: { heating: 'off' },
        overrides: { heating: { until: WEDNESDAY_10_BERLIN + 86_400_000, setAt } },
      }),
    );
    expect(expiredOverrides).toEqual(['heating']);
  });
});

describe('latestMeasures', () => {
  it('takes each measure from the latest reading that carries it', () => {
    const m = latestMeasures([
      { ts: 3000, seq: 3, temperature: 22 },
      { ts: 1000, seq: 1, temperature: 20, co2: 800 },
      { ts: 2000, seq: 2, co2: 950 },
    ]);
    expect(m).toEqual({ temperature: 22, co2: 950 });
  });
});

describe('the time decisions are taken at', () => {
  it('judges the schedule at the building time it is given', async () => {
    const { readFileSync } = await import('node:fs');
    const policy = parseBuildingConfigText(readFileSync('building.json', 'utf8')).comfort;
    const night = Date.UTC(2026, 10, 23, 2, 0);
    const midday = Date.UTC(2026, 10, 23, 12, 0);
    // 19 degC is below the occupied setpoint band but above the setback band.
    const input = {
      measures: { temperature: 19 },
      policy,
      current: { heating: 'off' as const },
      drives: ['heating' as const],
    };
    expect(decide({ ...input, now: midday }).changes).toEqual({ heating: 'on' });
    expect(decide({ ...input, now: night }).changes).toEqual({});
  });
});
