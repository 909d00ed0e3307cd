import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTEXT, csrFileName, devicesOf } from '../../contracts';
import { generateKeyAndCsr } from '../../contracts/pki';
import { CDK_CONTEXT, fixturePath, loadFixture } from './helpers';

/**
 * Runs bin/app.ts the way `cdk synth` does (context in CDK_CONTEXT_JSON, output in CDK_OUTDIR),
 * so the config loading, CSR reading and plugin wiring of the app itself are under test.
 */
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const tsx = join(repoRoot, 'node_modules/.bin/tsx');
const dirs: string[] = [];
const tempDir = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
};

interface AppRun {
  readonly status: number | null;
  readonly stderr: string;
  readonly outdir: string;
}

/** `validate: false` skips the built-in CloudFormation Validate plugin (validation.int.test.ts runs it); cdk-nag still runs. */
function runApp(context: Record<string, string>, validate = false): Promise<AppRun> {
  const outdir = tempDir('zonectl-cdk-out-');
  const child = spawn(tsx, ['bin/app.ts'], {
    cwd: repoRoot,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      ...process.env,
      CDK_OUTDIR: outdir,
      CDK_CONTEXT_JSON: JSON.stringify({ ...CDK_CONTEXT, ...context }),
      CDK_VALIDATION: String(validate),
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stderr, outdir }));
  });
}

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface ValidationReport {
  pluginReports: Array<{
    pluginName: string;
    violations: unknown[];
  }>;
}

describe('cdk app on a valid building with one CSR', () => {
  const config = loadFixture();
  const thing = devicesOf(config)[0]!.thing;
  const stackName = `Zonectl-${config.buildingId}`;
  let run: AppRun;

  beforeAll(async () => {
    const csrDir = tempDir('zonectl-csr-');
    writeFileSync(join(csrDir, csrFileName(thing)), (await generateKeyAndCsr(thing)).csrPem);
    run = await runApp({ [CONTEXT.buildingConfig]: fixturePath('building.json'), [CONTEXT.csrDir]: csrDir });
  });

  it('synthesizes one stack named after the building', () => {
    expect(run.stderr).not.toMatch(/error|warning/i);
    expect(run.status).toBe(0);
    const manifest = JSON.parse(readFileSync(join(run.outdir, 'manifest.json'), 'utf8'));
    const stacks = Object.entries(manifest.artifacts as Record<string, { type: string }>)
      .filter(([, a]) => a.type === 'aws:cloudformation:stack')
      .map(([name]) => name);
    expect(stacks).toEqual([stackName]);
  });

  it('passes cdk-nag, which the app registers, with no unacknowledged finding', () => {
    expect(run.status).toBe(0);
    const report: ValidationReport = JSON.parse(
      readFileSync(join(run.outdir, 'validation-report.json'), 'utf8'),
    );
    for (const plugin of report.pluginReports) expect(plugin.violations, plugin.pluginName).toEqual([]);
  });

  it('reads the CSR from the CSR folder and creates the certificate', () => {
    const template = JSON.parse(readFileSync(join(run.outdir, `${stackName}.template.json`), 'utf8'));
    const certificates = Object.values(template.Resources as Record<string, { Type: string }>).filter(
      (r) => r.Type === 'AWS::IoT::Certificate',
    );
    expect(certificates).toHaveLength(1);
  });
});

describe('cdk app on a bad building config', () => {
  let badRetention: AppRun;
  let badSensor: AppRun;
  let missing: AppRun;
  let wrongRegion: AppRun;
  beforeAll(async () => {
    [badRetention, badSensor, missing, wrongRegion] = await Promise.all([
      runApp({ [CONTEXT.buildingConfig]: fixturePath('bad-retention.json') }),
      runApp({ [CONTEXT.buildingConfig]: fixturePath('bad-sensor.json') }),
      runApp({ [CONTEXT.buildingConfig]: 'no-such-building.json' }),
      runApp({ [CONTEXT.buildingConfig]: fixturePath('building.json'), [CONTEXT.region]: 'eu-north-1' }),
    ]);
  });

  it('refuses a LiveAnalytics building for a Region without the service, naming the Regions that have it', () => {
    expect(wrongRegion.status).toBe(1);
    expect(wrongRegion.stderr).toContain('not offered in eu-north-1');
    expect(wrongRegion.stderr).toContain('us-east-1, us-east-2, us-west-2, eu-west-1, eu-central-1');
    expect(wrongRegion.stderr).toContain('"engine": "influxdb"');
    expect(wrongRegion.stderr).not.toMatch(/\n\s+at /);
  });

  it('fails naming the field, the bad value and what is expected', () => {
    expect(badRetention.status).toBe(1);
    expect(badRetention.stderr).toContain('storage.memoryRetentionHours');
    expect(badRetention.stderr).toContain('got 0');
    expect(badRetention.stderr).toMatch(/expected .*1/);
  });

  it('fails on an unknown sensor kind, listing the kinds it accepts', () => {
    expect(badSensor.status).toBe(1);
    expect(badSensor.stderr).toContain('zones[0].devices[0].senses[1]');
    expect(badSensor.stderr).toContain('"smell"');
    expect(badSensor.stderr).toContain('temperature, humidity, occupancy, co2, light');
  });

  it('fails on a missing config file, naming the file and the context key', () => {
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('no-such-building.json');
    expect(missing.stderr).toContain(CONTEXT.buildingConfig);
  });

  it('prints the message for people, without a stack trace', () => {
    expect(badRetention.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('cdk app on two buildings, one fleet-provisioned', () => {
  let run: AppRun;
  let overlapping: AppRun;
  beforeAll(async () => {
    const dir = tempDir('zonectl-configs-');
    const fleet = { ...JSON.parse(readFileSync(fixturePath('building.json'), 'utf8')) };
    fleet.buildingId = 'site-b';
    fleet.provisioning = 'fleet';
    for (const zone of fleet.zones) {
      for (const device of zone.devices) device.thing = device.thing.replace(/^test-hq-/, 'site-b-');
    }
    writeFileSync(join(dir, 'site-b.json'), JSON.stringify(fleet));
    const west = { ...fleet, buildingId: 'test-hq-west', provisioning: 'stack' };
    west.zones = fleet.zones.map((z: { devices: Array<{ thing: string }> }) => ({
      ...z,
      devices: z.devices.map((d) => ({ ...d, thing: d.thing.replace(/^site-b-/, 'test-hq-west-') })),
    }));
    writeFileSync(join(dir, 'west.json'), JSON.stringify(west));
    [run, overlapping] = await Promise.all([
      runApp({ [CONTEXT.buildingConfig]: `${fixturePath('building.json')},${join(dir, 'site-b.json')}` }),
      runApp({ [CONTEXT.buildingConfig]: `${fixturePath('building.json')},${join(dir, 'west.json')}` }),
    ]);
  });

  it('synthesizes both stacks and passes cdk-nag with no unacknowledged finding', () => {
    expect(run.stderr).not.toMatch(/error|warning/i);
    expect(run.status).toBe(0);
    const report: ValidationReport = JSON.parse(
      readFileSync(join(run.outdir, 'validation-report.json'), 'utf8'),
    );
    for (const plugin of report.pluginReports) expect(plugin.violations, plugin.pluginName).toEqual([]);
  });

  it('gives the fleet building a provisioning template and no things', () => {
    const template = JSON.parse(readFileSync(join(run.outdir, 'Zonectl-site-b.template.json'), 'utf8'));
    const types = Object.values(template.Resources as Record<string, { Type: string }>).map((r) => r.Type);
    expect(types).toContain('AWS::IoT::ProvisioningTemplate');
    expect(types).not.toContain('AWS::IoT::Thing');
  });

  it('refuses building ids whose thing-name prefixes overlap, naming both', () => {
    expect(overlapping.status).toBe(1);
    expect(overlapping.stderr).toContain("'test-hq' and 'test-hq-west'");
    expect(overlapping.stderr).toContain('Rename one building');
  });
});
