/**
 * The world a fault case runs in: the project's own stack deployed into a local cloud whose
 * state dir is ready to start in a child process, plus one sensor's device bundle. Preparing it
 * runs the demo's steps (onboard, synthesize, start, deploy, finish onboarding) once per session
 * in a cache dir, then stops that cloud; every case copies the stopped state dir, so each starts
 * from the same deployed stack and none sees another's data.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUNDLE_FILE, buildingStackName, STACK_OUTPUT, STACK_OUTPUTS_FILE } from '../../contracts';
import { setUpPipeline } from '../../demo/setup';
import { type DeviceBundle, loadBundle } from '../../device/bundle';
import { silentLogger } from '../../local/common/log';

/** The sensor every fault case publishes as: it senses temperature, humidity and CO2. */
export const CHAOS_SENSOR = 'hq-lobby-climate';

export interface ChaosTemplate {
  /** A stopped local cloud's state dir with the stack deployed; copy it, never run it. */
  readonly stateDir: string;
  readonly bundle: DeviceBundle;
  readonly database: string;
  readonly table: string;
  readonly deadLetterQueueUrlPath: string;
  /** The ingest queue's name (its URL's last segment). */
  readonly ingestQueueName: string;
}

/** One case's world: its own copy of the template state. */
export interface ChaosWorld extends ChaosTemplate {
  readonly root: string;
  remove(): void;
}

let prepared: Promise<ChaosTemplate> | undefined;

/**
 * Deploys the stack once per process (synthesis is cached across runs under the OS temp dir,
 * keyed by the synth inputs) and returns the stopped state.
 */
export function chaosTemplate(
  repoRoot: string,
  configPath = join(repoRoot, 'building.json'),
): Promise<ChaosTemplate> {
  prepared ??= (async () => {
    const cache = join(tmpdir(), 'zonectl-chaos-cache');
    // Keys, CSRs and the synthesized assembly are reused; the cloud is deployed afresh.
    rmSync(join(cache, 'local'), { recursive: true, force: true });
    mkdirSync(cache, { recursive: true });
    const pipeline = await setUpPipeline(
      { repoRoot, configPath, stateDir: cache, mqttPort: 0, apiPort: 0, logger: silentLogger },
      () => {},
    );
    const { cloud, deployed, config } = pipeline;
    await cloud.close();
    const outputs = JSON.parse(readFileSync(join(cache, 'local', STACK_OUTPUTS_FILE), 'utf8')) as Record<
      string,
      Record<string, string>
    >;
    const ingestUrl = outputs[buildingStackName(config.buildingId)]?.[STACK_OUTPUT.ingestQueueUrl] ?? '';
    return {
      stateDir: join(cache, 'local'),
      bundle: loadBundle(join(deployed.devicesDir, CHAOS_SENSOR, BUNDLE_FILE)),
      // The chaos bench runs the Timestream engine (the default building).
      database: String(deployed.outputs[STACK_OUTPUT.timestreamDatabase] ?? ''),
      table: String(deployed.outputs[STACK_OUTPUT.timestreamTable] ?? ''),
      // The queue URL names the port of the cloud that deployed it; only its path is kept.
      deadLetterQueueUrlPath: new URL(deployed.deadLetterQueueUrl).pathname,
      ingestQueueName: ingestUrl.split('/').at(-1) ?? '',
    };
  })();
  return prepared;
}

/** A fresh copy of the template for one case, in its own temp dir. */
export async function chaosWorld(repoRoot: string, name: string): Promise<ChaosWorld> {
  const template = await chaosTemplate(repoRoot);
  const root = mkdtempSync(join(tmpdir(), `zonectl-chaos-${name}-`));
  const stateDir = join(root, 'state');
  cpSync(template.stateDir, stateDir, { recursive: true });
  return {
    ...template,
    stateDir,
    root,
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}
