/**
 * The world a fault case runs in: the project's own stack deployed into a local cloud whose
 * state dir is ready to start in a child process, plus one sensor's device bundle. Preparing it
 * runs the demo's steps (onboard, synthesize, start, deploy, finish onboarding) once per process,
 * then stops that cloud; every case copies the stopped state dir, so each starts from the same
 * deployed stack and none sees another's data.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BUNDLE_FILE,
  type BuildingConfig,
  buildingStackName,
  STACK_OUTPUT,
  STACK_OUTPUTS_FILE,
} from '../../contracts';
import { type Deployed, setUpPipeline } from '../../demo/setup';
import { type DeviceBundle, loadBundle } from '../../device/bundle';
import { silentLogger } from '../../local/common/log';
import { processAlive } from '../../local/common/state-lock';

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
  /** The synthesized cloud assembly the template was deployed from (for a redeploy). */
  readonly assembly: string;
}

/** One case's world: its own copy of the template state. */
export interface ChaosWorld extends ChaosTemplate {
  readonly root: string;
  remove(): void;
}

/** The project's stack deployed into a local cloud, stopped: its state dir is ready to copy. */
export interface DeployedTemplate {
  /** The stopped cloud's state dir; copy it, never run it. */
  readonly stateDir: string;
  /** The synthesized cloud assembly it was deployed from. */
  readonly assembly: string;
  readonly deployed: Deployed;
  readonly config: BuildingConfig;
}

/**
 * Deploys the stack (the demo's steps: onboard, synthesize, start, deploy, finish onboarding)
 * into a dir of this process's own, removed when the process exits, and stops the cloud. Not a
 * dir shared between processes: test files run in parallel, and two runs at once would remove
 * or overwrite each other's deployment. The synthesis is cached across processes by the demo.
 */
export async function deployTemplate(repoRoot: string, configPath: string): Promise<DeployedTemplate> {
  removeTemplatesOfEndedProcesses();
  const dir = mkdtempSync(join(tmpdir(), `${TEMPLATE_PREFIX}${process.pid}-`));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const { cloud, deployed, config, assemblyDir } = await setUpPipeline(
    { repoRoot, configPath, stateDir: dir, mqttPort: 0, apiPort: 0, logger: silentLogger },
    () => {},
  );
  await cloud.close();
  return { stateDir: join(dir, 'local'), assembly: assemblyDir, deployed, config };
}

const TEMPLATE_PREFIX = 'zonectl-chaos-template-';

/** Template dirs whose process ended without its exit handler (a test worker is killed, not exited). */
function removeTemplatesOfEndedProcesses(): void {
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(TEMPLATE_PREFIX)) continue;
    const pid = Number(name.slice(TEMPLATE_PREFIX.length).split('-')[0]);
    if (!Number.isInteger(pid) || pid <= 0 || processAlive(pid)) continue;
    rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
}

let prepared: Promise<ChaosTemplate> | undefined;

/** Deploys the stack once per process (deployTemplate) and returns what the fault cases need. */
export function chaosTemplate(
  repoRoot: string,
  configPath = join(repoRoot, 'building.json'),
): Promise<ChaosTemplate> {
  prepared ??= (async () => {
    const { stateDir, assembly, deployed, config } = await deployTemplate(repoRoot, configPath);
    const outputs = JSON.parse(readFileSync(join(stateDir, STACK_OUTPUTS_FILE), 'utf8')) as Record<
      string,
      Record<string, string>
    >;
    const ingestUrl = outputs[buildingStackName(config.buildingId)]?.[STACK_OUTPUT.ingestQueueUrl] ?? '';
    return {
      stateDir,
      bundle: loadBundle(join(deployed.devicesDir, CHAOS_SENSOR, BUNDLE_FILE)),
      // The chaos bench runs the Timestream engine (the default building).
      database: String(deployed.outputs[STACK_OUTPUT.timestreamDatabase] ?? ''),
      table: String(deployed.outputs[STACK_OUTPUT.timestreamTable] ?? ''),
      // The queue URL names the port of the cloud that deployed it; only its path is kept.
      deadLetterQueueUrlPath: new URL(deployed.deadLetterQueueUrl).pathname,
      ingestQueueName: ingestUrl.split('/').at(-1) ?? '',
      assembly,
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
