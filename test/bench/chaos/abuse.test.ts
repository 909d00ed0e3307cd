import { describe, expect, it } from 'vitest';
import { type AbuseReport, abusePassed, abuseTable, type CaseResult } from '../../../bench/chaos/abuse';

const result = (group: CaseResult['group'], outcome: CaseResult['outcome']): CaseResult => ({
  group,
  name: `${group} ${outcome}`,
  outcome,
  detail: '',
  ms: 1,
});
const value = (report: AbuseReport, figure: string) => abuseTable(report).find((r) => r[0] === figure)?.[1];

describe('abuse suite: the table and the verdict', () => {
  const clean: AbuseReport = {
    results: [
      result('input', 'clear error'),
      result('input', 'served'),
      result('security', 'clear error'),
      result('security', 'clear error'),
    ],
    afterwards: [],
  };

  it('counts inputs, clear errors and security cases, and passes a run of clear errors and served cases', () => {
    expect(value(clean, 'inputs tried')).toBe('2');
    expect(value(clean, 'clear errors')).toBe('1');
    expect(value(clean, 'served as AWS serves them')).toBe('1');
    expect(value(clean, 'security cases tried')).toBe('2');
    expect(value(clean, 'security cases allowed')).toBe('0');
    expect(value(clean, 'cloud intact afterwards')).toBe('yes');
    expect(abusePassed(clean)).toBe(true);
  });

  it.each(['allowed', 'crash', 'hang', 'unclear'] as const)('fails a run with one %s', (outcome) => {
    const report = { ...clean, results: [...clean.results, result('security', outcome)] };
    expect(abusePassed(report)).toBe(false);
  });

  it('fails a run after which the cloud lost state, and says what', () => {
    const report = { ...clean, afterwards: ['ListThings lost hq-lobby-hvac'] };
    expect(abusePassed(report)).toBe(false);
    expect(value(report, 'cloud intact afterwards')).toBe('no: ListThings lost hq-lobby-hvac');
  });
});
