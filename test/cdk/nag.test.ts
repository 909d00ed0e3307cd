import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadFixture, synthBuilding } from './helpers';

describe('cdk-nag AwsSolutions', () => {
  let report: ReturnType<AwsSolutionsChecks['validateScope']>;
  beforeAll(() => {
    const { app } = synthBuilding(loadFixture());
    report = new AwsSolutionsChecks(app).validateScope(app);
  });

  it('has no unacknowledged findings', () => {
    console.log(JSON.stringify(report, null, 1));
    expect(report.violations).toEqual([]);
  });
});
