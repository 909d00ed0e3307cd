import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BuildingStack } from '../../lib/building-stack';
import { CDK_CONTEXT, loadFixture } from './helpers';

interface ValidationReport {
  pluginReports: Array<{
    pluginName: string;
    violations: unknown[];
    suppressedViolations?: Array<{ ruleName: string; violatingConstructs: Array<{ constructPath: string }> }>;
  }>;
}

/**
 * The app as bin/app.ts builds it, with cdk-nag AwsSolutions and the built-in CloudFormation
 * Validate plugin both running at synth (the latter takes several seconds to start).
 */
describe('synth-time validation', () => {
  const outdir = mkdtempSync(join(tmpdir(), 'zonectl-validation-'));
  let app: App;
  let stack: BuildingStack;
  let report: ValidationReport;
  beforeAll(() => {
    app = new App({ outdir, context: CDK_CONTEXT });
    stack = new BuildingStack(app, 'Zonectl-test-hq', { config: loadFixture() });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    app.synth();
    report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8'));
  });
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it('leaves no unacknowledged finding from cdk-nag or CloudFormation Validate', () => {
    expect(report.pluginReports.map((p) => p.pluginName)).toContain('CloudFormation Validate');
    for (const plugin of report.pluginReports) expect(plugin.violations, plugin.pluginName).toEqual([]);
  });

  it('acknowledges W3697 only on the Timestream database and table', () => {
    const suppressed = report.pluginReports.flatMap((p) => p.suppressedViolations ?? []);
    const paths = suppressed
      .filter((s) => s.ruleName === 'W3697')
      .flatMap((s) => s.violatingConstructs.map((c) => c.constructPath));
    expect(paths.sort()).toEqual([
      `${stack.stackName}/Telemetry/Database`,
      `${stack.stackName}/Telemetry/Table`,
    ]);
  });

  it('acknowledges rules only on resources, never on a stack or the app, each with a reason', () => {
    for (const { construct, id, reason } of acknowledgments(app)) {
      expect(Stack.isStack(construct) || construct === app, `${id} on ${construct.node.path}`).toBe(false);
      expect(
        construct.node.defaultChild,
        `${id} on ${construct.node.path} is not a resource`,
      ).toBeUndefined();
      expect(reason.length, `${id} reason`).toBeGreaterThan(40);
    }
  });

  it('acknowledges IAM5 only for a named finding, never the whole rule', () => {
    const iam5 = acknowledgments(app).filter((a) => a.id.includes('AwsSolutions-IAM5'));
    expect(iam5.length).toBeGreaterThan(0);
    for (const a of iam5) expect(a.id).toMatch(/AwsSolutions-IAM5\[.+\]$/);
  });
});

describe('cdk-nag wiring', () => {
  it('fails on a finding nobody acknowledged (a queue without TLS enforcement)', () => {
    const app = new App();
    const stack = new Stack(app, 'Bad');
    new sqs.Queue(stack, 'Plain', { encryption: sqs.QueueEncryption.SQS_MANAGED });
    const result = new AwsSolutionsChecks(app).validateScope(app);
    expect(result.violations.map((v) => v.ruleName)).toContain('AwsSolutions-SQS4');
  });
});

function acknowledgments(root: IConstruct): Array<{ construct: IConstruct; id: string; reason: string }> {
  return root.node
    .findAll()
    .flatMap((construct) =>
      construct.node.metadata
        .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((m) =>
          Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({ construct, id, reason })),
        ),
    );
}
