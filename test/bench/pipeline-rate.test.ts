import { describe, expect, it } from 'vitest';
import { sustainedRate } from '../../bench/pipeline';

describe('the pipeline bench: sustained rate', () => {
  it('counts the readings stored between 10% and 90%, leaving out the start and the last batch wait', () => {
    // 1,000 readings: 100 ms before any lands, 100 readings per 100 ms, the last 100 after a 5 s wait.
    const samples = [{ at: 0, stored: 0 }];
    for (let i = 1; i <= 9; i++) samples.push({ at: 100 + i * 100, stored: i * 100 });
    samples.push({ at: 6_000, stored: 1_000 });
    // 10% at 200 ms (100 stored), 90% at 1,000 ms (900 stored): 800 readings in 0.8 s.
    expect(sustainedRate(samples, 1_000)).toBeCloseTo(1_000, 6);
  });

  it('falls back to the whole run when the counts jump past both marks at once', () => {
    const samples = [
      { at: 0, stored: 0 },
      { at: 2_000, stored: 1_000 },
    ];
    expect(sustainedRate(samples, 1_000)).toBe(500);
    expect(sustainedRate([{ at: 0, stored: 0 }], 1_000)).toBe(0);
  });
});
