import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  type BuildingConfig,
  buildingStackName,
  devicesOf,
  PRIVATE_KEY_FILE,
  parseBuildingConfigText,
  STACK_OUTPUT,
} from '../contracts';
import { loadClaim } from '../device/provision';
import { type LocalCloud, startLocalCloud } from '../local/cloud';
import { errorText, type LocalLogger } from '../local/common/log';
import { createClaim } from '../provisioning/claims';
import { provisionFirstBoot } from '../provisioning/first-boot';
import { finishOnboarding, startOnboarding, targetFor } from '../provisioning/onboard';
import { resetRunState } from './state-dir';
import { synthesize } from './synth';

/**
 * The demo's steps 1-5, what an operator does by hand before devices run: onboard every device
 * (a key pair and CSR made here, kept for later runs), synthesize the CDK app with those CSRs,
 * start the local cloud, deploy the assembly into it and finish onboarding (certificates from
 * the local CA, one device bundle per device). Everything lives in the demo's state dir.
 */

export interface SetupOptions {
  readonly repoRoot: string;
  readonly configPath: string;
  readonly stateDir: string;
  /** Preferred ports; taken ones fall back to free ports. */
  readonly mqttPort: number;
  readonly apiPort: number;
  readonly logger: LocalLogger;
  /**
   * The building runs on simulated time: the zone controller is deployed to take the building's
   * clock from the readings' timestamps (see lambda/controller/building-clock.ts).
   */
  readonly simulatedClock?: boolean;
}

/** What the deployed stack gave the demo. */
export interface Deployed {
  readonly devicesDir: string;
  /** Every output of the building's stack (the readings reader is built from them). */
  readonly outputs: Readonly<Record<string, unknown>>;
  readonly deadLetterQueueUrl: string;
  /** The zone controller's queue: the demo waits for it to empty before time moves on. */
  readonly controlQueueUrl: string;
}

export interface Pipeline {
  readonly config: BuildingConfig;
  readonly cloud: LocalCloud;
  readonly deployed: Deployed;
  /** The synthesized cloud assembly that was deployed (its cdk.out). */
  readonly assemblyDir: string;
}

export async function setUpPipeline(
  o: SetupOptions,
  progress: (step: number, title: string, detail?: string) => void,
): Promise<Pipeline> {
  const stateDir = resolve(o.stateDir);
  const csrDir = join(stateDir, 'csr');
  const devicesDir = join(stateDir, 'devices');
  const cloudDir = join(stateDir, 'local');
  // Every run starts from an empty local cloud and empty device buffers; keys and the
  // synthesized assembly are kept (demo/state-dir.ts).
  resetRunState(stateDir, cloudDir, devicesDir);
  const config = parseBuildingConfigText(readFileSync(o.configPath, 'utf8'), o.configPath);
  const devices = devicesOf(config);

  const fleet = config.provisioning === 'fleet';
  // 1. Onboard: a key pair and CSR per device, made here; keys are reused on later runs.
  // A fleet-provisioned building has no onboarding: its devices provision themselves (step 5).
  let made = 0;
  for (const d of fleet ? [] : devices) {
    if (existsSync(join(devicesDir, d.thing, PRIVATE_KEY_FILE))) continue;
    await startOnboarding({ thing: d.thing, configPath: o.configPath, csrDir, devicesDir });
    made++;
  }
  progress(
    1,
    fleet ? 'fleet provisioning: no onboarding' : 'onboarded devices',
    fleet
      ? `${devices.length} devices will provision themselves with a claim`
      : `${devices.length} devices, ${made} new key pairs and CSRs`,
  );

  // 2. Synthesize the CDK app with those CSRs.
  const synth = await synthesize({
    repoRoot: o.repoRoot,
    configPath: o.configPath,
    csrDir,
    outDir: join(stateDir, 'cdk.out'),
    buildingClock: o.simulatedClock ? 'readings' : 'wall',
  });
  progress(
    2,
    'synthesized the CDK app',
    synth.cached ? 'unchanged, reused' : `${(synth.ms / 1000).toFixed(1)} s`,
  );

  // 3. The local cloud.
  const cloud = await startCloudWithFallback(cloudDir, o);
  progress(
    3,
    'started the local cloud',
    `MQTT ${cloud.endpoints.mqttPort}, APIs ${cloud.endpoints.apiEndpoint}`,
  );

  try {
    // 4. Deploy the assembly.
    const deployed = await cloud.deploy(synth.outDir);
    const counts = new Map<string, number>();
    for (const l of deployed.report) counts.set(l.status, (counts.get(l.status) ?? 0) + 1);
    progress(4, 'deployed the stack locally', [...counts].map(([s, n]) => `${n} ${s}`).join(', '));
    const outputs = deployed.outputs[buildingStackName(config.buildingId)] ?? {};
    const output = (key: string) => {
      const v = outputs[key];
      if (typeof v !== 'string') throw new Error(`the deployed stack has no output ${key}`);
      return v;
    };

    if (fleet) {
      // 5. Fleet provisioning: a claim, then every device's first boot through it, as real
      // devices do it (key and CSR on the device, CreateCertificateFromCsr and RegisterThing over
      // MQTT through the hook); devices with a bundle from an earlier run are left as they are.
      const started = Date.now();
      const provisioned = await provisionWithClaim(
        o.configPath,
        config.buildingId,
        cloudDir,
        stateDir,
        devicesDir,
        devices.map((d) => d.thing),
      );
      progress(
        5,
        'provisioned devices with a claim',
        `${provisioned} of ${devices.length} through the template in ${((Date.now() - started) / 1000).toFixed(1)} s, the rest from earlier runs`,
      );
    } else {
      // 5. Finish onboarding: fetch each signed certificate and write the device bundles.
      const target = targetFor({ local: true, stateDir: cloudDir });
      try {
        for (const d of devices) {
          await finishOnboarding({ thing: d.thing, configPath: o.configPath, devicesDir, target });
        }
      } finally {
        target.iot.destroy();
      }
      progress(
        5,
        'finished onboarding',
        `${devices.length} device bundles with certificates from the local CA`,
      );
    }

    return {
      config,
      cloud,
      assemblyDir: synth.outDir,
      deployed: {
        devicesDir,
        outputs,
        deadLetterQueueUrl: output(STACK_OUTPUT.deadLetterQueueUrl),
        controlQueueUrl: output(STACK_OUTPUT.controlQueueUrl),
      },
    };
  } catch (err) {
    await cloud.close();
    throw err;
  }
}

async function startCloudWithFallback(cloudDir: string, o: SetupOptions): Promise<LocalCloud> {
  try {
    return await startLocalCloud({
      stateDir: cloudDir,
      mqttPort: o.mqttPort,
      apiPort: o.apiPort,
      logger: o.logger,
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    o.logger.warn(`port in use (${errorText(err)}); using free ports instead`);
    return startLocalCloud({ stateDir: cloudDir, mqttPort: 0, apiPort: 0, logger: o.logger });
  }
}

/** Devices provisioning at once; each holds one claim connection while it provisions. */
const PROVISIONING_CONCURRENCY = 8;

/** Makes the building's claim (kept for later runs) and provisions every device without a bundle. */
async function provisionWithClaim(
  configPath: string,
  buildingId: string,
  cloudDir: string,
  stateDir: string,
  devicesDir: string,
  things: readonly string[],
): Promise<number> {
  const claimDir = join(stateDir, 'claim');
  if (!existsSync(join(claimDir, 'claim.json'))) {
    const target = targetFor({ local: true, stateDir: cloudDir });
    try {
      await createClaim({ configPath, claimDir, target });
    } finally {
      target.iot.destroy();
    }
  }
  const claim = loadClaim(claimDir);
  if (claim.building !== buildingId)
    throw new Error(`the claim in ${claimDir} is for building ${claim.building}`);
  const queue = [...things];
  let provisioned = 0;
  const worker = async () => {
    for (let thing = queue.shift(); thing !== undefined; thing = queue.shift()) {
      const result = await provisionFirstBoot({ thing, claim, devicesDir });
      if (!result.alreadyProvisioned) provisioned++;
    }
  };
  await Promise.all(Array.from({ length: PROVISIONING_CONCURRENCY }, worker));
  return provisioned;
}
