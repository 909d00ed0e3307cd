import { describe, expect, it } from 'vitest';
import { planDesired, reportedState } from '../../device/shadow-sync';

describe('planDesired', () => {
  it('applies valid values for actuators the device drives', () => {
    const plan = planDesired({ heating: 'on', ventilation: 'low' }, ['heating', 'ventilation']);
    expect(plan.apply).toEqual([
      { kind: 'heating', value: 'on' },
      { kind: 'ventilation', value: 'low' },
    ]);
    expect(plan.rejected).toEqual({});
  });

  it('rejects an out-of-range value with the reason', () => {
    const plan = planDesired({ lighting: 140 }, ['lighting']);
    expect(plan.apply).toEqual([]);
    expect(plan.rejected.lighting).toMatch(/at most 100/);
  });

  it('rejects an unknown key', () => {
    const plan = planDesired({ sprinkler: 'on' }, ['heating']);
    expect(plan.rejected.sprinkler).toMatch(/unknown actuator 'sprinkler'/);
  });

  it('rejects an actuator this device does not drive', () => {
    expect(planDesired({ lighting: 40 }, ['heating']).rejected.lighting).toMatch(/does not drive lighting/);
  });

  it('echoes override annotations unchanged and does not apply them', () => {
    const override = { heating: 1_763_900_000_000 };
    const plan = planDesired({ heating: 'off', override }, ['heating']);
    expect(plan.annotations).toEqual({ override });
    expect(plan.apply).toEqual([{ kind: 'heating', value: 'off' }]);
  });

  it('rejects a desired state that is not an object', () => {
    expect(planDesired('on', ['heating']).rejected).toHaveProperty('desired');
  });
});

describe('reportedState', () => {
  it('reports applied state, echoed annotations, rejections and mode', () => {
    const plan = planDesired({ heating: 'on', ventilation: 'max', override: { heating: 5 } }, [
      'heating',
      'ventilation',
    ]);
    const reported = reportedState({
      drives: ['heating', 'ventilation'],
      state: { heating: 'on', ventilation: 'off' },
      plan,
      mode: 'cloud',
    });
    expect(reported).toEqual({
      heating: 'on',
      ventilation: 'off',
      override: { heating: 5 },
      rejected: { ventilation: expect.stringMatching(/one of off, low, high/) },
      mode: 'cloud',
    });
  });

  it('clears an earlier rejection once a valid value is applied', () => {
    const plan = planDesired({ lighting: 40 }, ['lighting']);
    const reported = reportedState({
      drives: ['lighting'],
      state: { lighting: 40 },
      plan,
      previouslyRejected: new Set(['lighting']),
      mode: 'cloud',
    });
    expect(reported.rejected).toEqual({ lighting: null });
  });

  it('reports a driver failure as a rejection', () => {
    const reported = reportedState({
      drives: ['heating'],
      state: { heating: 'off' },
      failed: { heating: 'the heating driver failed: relay stuck' },
      mode: 'cloud',
    });
    expect(reported.rejected).toEqual({ heating: 'the heating driver failed: relay stuck' });
  });
});
