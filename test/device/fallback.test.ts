import { describe, expect, it } from 'vitest';
import type { SafetyLimits } from '../../device/bundle';
import { fallbackCommands } from '../../device/fallback';

const limits: SafetyLimits = {
  minTemperature: 17,
  maxTemperature: 22.5,
  temperatureHysteresis: 0.5,
  co2Limit: 900,
  co2HighLimit: 1300,
};
const drives = ['heating', 'ventilation', 'lighting'] as const;

describe('fallbackCommands', () => {
  it('turns heating on below the safe minimum temperature', () => {
    const out = fallbackCommands({
      readings: { temperature: 16.2 },
      lastCloud: { heating: 'off' },
      current: { heating: 'off' },
      limits,
      drives,
    });
    expect(out).toEqual({ heating: 'on' });
  });

  it('keeps heating on inside the hysteresis band once forced on', () => {
    const out = fallbackCommands({
      readings: { temperature: 17.2 },
      lastCloud: { heating: 'off' },
      current: { heating: 'on' },
      limits,
      drives,
    });
    expect(out).toEqual({});
  });

  it('turns heating off above the safe maximum temperature', () => {
    const out = fallbackCommands({
      readings: { temperature: 23.5 },
      lastCloud: { heating: 'on' },
      current: { heating: 'on' },
      limits,
      drives,
    });
    expect(out).toEqual({ heating: 'off' });
  });

  it('runs ventilation at least low above the CO2 limit', () => {
    const out = fallbackCommands({
      readings: { co2: 1000 },
      lastCloud: { ventilation: 'off' },
      current: { ventilation: 'off' },
      limits,
      drives,
    });
    expect(out).toEqual({ ventilation: 'low' });
  });

  it('runs ventilation high above the high CO2 limit', () => {
    const out = fallbackCommands({
      readings: { co2: 1400 },
      lastCloud: { ventilation: 'low' },
      current: { ventilation: 'low' },
      limits,
      drives,
    });
    expect(out).toEqual({ ventilation: 'high' });
  });

  it('holds the last cloud commands within safe limits', () => {
    const out = fallbackCommands({
      readings: { temperature: 20, co2: 600 },
      lastCloud: { heating: 'on', ventilation: 'low', lighting: 60 },
      current: { heating: 'off', ventilation: 'off', lighting: 0 },
      limits,
      drives,
    });
    expect(out).toEqual({ heating: 'on', ventilation: 'low', lighting: 60 });
  });

  it('changes only what the device drives', () => {
    const out = fallbackCommands({
      readings: { temperature: 10, co2: 2000 },
      lastCloud: {},
      current: { lighting: 0 },
      limits,
      drives: ['lighting'],
    });
    expect(out).toEqual({});
  });
});
