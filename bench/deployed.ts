/**
 * The building's pipeline deployed into a local cloud of its own process, the way an operator
 * sets it up: every device onboarded (key and CSR made here), the CDK app synthesized with those
 * CSRs, `zonectl local up` started, the assembly deployed through the local cloud's admin API
 * (what `zonectl local deploy` calls), onboarding finished (device bundles). Keys and the
 * synthesized assembly are kept under node_modules/.cache/zonectl/bench/, so later runs reuse an
 * unchanged synth; the cloud's state lives in a temp dir removed at the end.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BUNDLE_FILE,
  type BuildingConfig,
  buildingStackName,
  devicesOf,
  PRIVATE_KEY_FILE,
  parseBuildingConfigText,
} from '../contracts';
import { synthesize } from '../demo/synth';
import { type DeviceBundle, loadBundle } from '../device/bundle';
import { finishOnboarding, startOnboarding, targetFor } from '../provisioning/onboard';
import { REPO_ROOT, type SpawnedCloud, spawnLocalCloud } from './spawned';

export const BENCH_CACHE = join(REPO_ROOT, 'node_modules', '.cache', 'zonectl', 'bench');

export interface DeployedBuilding {
  readonly config: BuildingConfig;
  readonly cloud: SpawnedCloud;
  /** Stack outputs of the building's stack. */
  readonly outputs: Readonly<Record<string, string>>;
  readonly bundles: Readonly<Record<string, DeviceBundle>>;
  /** The synthesized assembly that was deployed. */
  readonly assembly: string;
  /** Deploys an assembly (another, or the same again) into the running cloud. */
  deploy(assemblyDir: string): Promise<Record<string, string>>;
  stop(): Promise<void>;
}

/** POST /_zonectl/deploy: what `zonectl local deploy` does. */
export async function deployTo(
  cloud: SpawnedCloud,
  assemblyDir: string,
  stackName: string,
): Promise<Record<string, string>> {
  const res = await fetch(`${cloud.apiEndpoint}/_zonectl/deploy`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ assembly: assemblyDir }),
  });
  const body = (await res.json()) as { outputs?: Record<string, Record<string, string>>; message?: string };
  if (!res.ok) throw new Error(`deploy failed: ${body.message ?? res.statusText}`);
  return body.outputs?.[stackName] ?? {};
}

export async function deployBuilding(
  buildingJson: string,
  say: (line: string) => void,
  options: { nodeArgs?: readonly string[] } = {},
): Promise<DeployedBuilding> {
  const config = parseBuildingConfigText(buildingJson);
  const work = join(BENCH_CACHE, config.buildingId);
  const configPath = join(work, 'building.json');
  const csrDir = join(work, 'csr');
  const devicesDir = join(work, 'devices');
  mkdirSync(work, { recursive: true });
  if (!existsSync(configPath) || readFileSync(configPath, 'utf8') !== buildingJson) {
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { recursive: true });
    writeFileSync(configPath, buildingJson);
  }
  for (const d of devicesOf(config)) {
    if (existsSync(join(devicesDir, d.thing, PRIVATE_KEY_FILE))) continue;
    await startOnboarding({ thing: d.thing, configPath, csrDir, devicesDir });
  }
  say('synthesizing the CDK app (reused when nothing changed)');
  const synth = await synthesize({ repoRoot: REPO_ROOT, configPath, csrDir, outDir: join(work, 'cdk.out') });
  const cloud = await spawnLocalCloud({ nodeArgs: options.nodeArgs ?? [] });
  const stackName = buildingStackName(config.buildingId);
  try {
    say(`deploying into the local cloud (pid ${cloud.pid})`);
    const outputs = await deployTo(cloud, synth.outDir, stackName);
    const target = targetFor({ local: true, stateDir: cloud.stateDir });
    const bundles: Record<string, DeviceBundle> = {};
    // Bundles go to the cloud's own state dir: they record this run's ports.
    const runDevices = join(cloud.stateDir, 'devices');
    try {
      for (const d of devicesOf(config)) {
        cpSync(join(devicesDir, d.thing), join(runDevices, d.thing), { recursive: true });
        await finishOnboarding({ thing: d.thing, configPath, devicesDir: runDevices, target });
        bundles[d.thing] = loadBundle(join(runDevices, d.thing, BUNDLE_FILE));
      }
    } finally {
      target.iot.destroy();
    }
    return {
      config,
      cloud,
      outputs,
      bundles,
      assembly: synth.outDir,
      deploy: (dir) => deployTo(cloud, dir, stackName),
      stop: () => cloud.stop(),
    };
  } catch (err) {
    await cloud.stop();
    throw err;
  }
}
