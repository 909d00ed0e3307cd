/**
 * The CDK app: building config -> one stack per building -> cdk-nag. Context (cdk.json or -c):
 *   zonectl:buildingConfig  config file, or several separated by commas (default building.json)
 *   zonectl:csrDir          where onboarding leaves <thing>.csr.pem (default onboarding/csr)
 *   zonectl:buildingClock   'readings' runs the zone controller on the readings' clock, for a
 *                           simulated building (the demo); default 'wall', the function's own
 *   zonectl:region          the Region the stacks are for (default CDK_DEFAULT_REGION, which the
 *                           CDK CLI sets from AWS_REGION or the profile; none: environment-agnostic)
 * A known Region lets synth refuse what the Region cannot run (LiveAnalytics where it is not
 * offered); an environment-agnostic stack carries the same check as a template rule.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import {
  type BuildingClock,
  type BuildingConfig,
  BuildingConfigError,
  buildingStackName,
  CONTEXT,
  csrFileName,
  DEFAULT_CSR_DIR,
  devicesOf,
  overlappingBuildingIds,
  parseBuildingClock,
  parseBuildingConfigText,
} from '../contracts';
import { BuildingStack } from '../lib/building-stack';

const app = new App();
const configPaths = String(app.node.tryGetContext(CONTEXT.buildingConfig) ?? 'building.json')
  .split(',')
  .map((p) => p.trim())
  .filter((p) => p !== '');
const csrDir = String(app.node.tryGetContext(CONTEXT.csrDir) ?? DEFAULT_CSR_DIR);
const buildingClock = readBuildingClock();
const region =
  (app.node.tryGetContext(CONTEXT.region) as string | undefined) ?? process.env.CDK_DEFAULT_REGION;

const configs = configPaths.map((path) => ({ path, config: loadConfig(path) }));
const overlapping = overlappingBuildingIds(configs.map((c) => c.config.buildingId));
if (overlapping.length > 0) {
  fail(
    `Building ids ${overlapping.map(([a, b]) => `'${a}' and '${b}'`).join(', ')} overlap: every thing of '${overlapping[0]![0]}' is named '${overlapping[0]![0]}-...', which also matches the things of '${overlapping[0]![1]}', so their IAM and IoT patterns would cover each other. Rename one building.`,
  );
}
for (const { path, config } of configs) {
  try {
    new BuildingStack(app, buildingStackName(config.buildingId), {
      config,
      // Fleet-provisioned buildings have no device resources in the stack, so no CSRs to read.
      csrPems: config.provisioning === 'stack' ? readCsrs(config) : {},
      buildingClock,
      ...(region ? { env: { region } } : {}),
    });
  } catch (err) {
    fail(`Cannot synthesize the stack of ${path}: ${(err as Error).message}`);
  }
}
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

function loadConfig(path: string): BuildingConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return fail(
      `Cannot read building config ${path}: ${(err as Error).message}\nSet the context ${CONTEXT.buildingConfig} to the config file.`,
    );
  }
  try {
    return parseBuildingConfigText(text, path);
  } catch (err) {
    if (err instanceof BuildingConfigError) return fail(err.message);
    throw err;
  }
}

/** The CSR of each device that has one; a device without one deploys without a certificate. */
function readCsrs(config: BuildingConfig): Record<string, string> {
  const csrs: Record<string, string> = {};
  for (const { thing } of devicesOf(config)) {
    const file = join(csrDir, csrFileName(thing));
    if (existsSync(file)) csrs[thing] = readFileSync(file, 'utf8');
  }
  return csrs;
}

function readBuildingClock(): BuildingClock {
  try {
    return parseBuildingClock(app.node.tryGetContext(CONTEXT.buildingClock) as string | undefined);
  } catch (err) {
    return fail(`Context ${CONTEXT.buildingClock}: ${(err as Error).message}`);
  }
}

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}
