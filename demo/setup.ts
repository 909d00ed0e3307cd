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
import { type LocalCloud, startLocalCloud } from '../local/cloud';
import { errorText, type LocalLogger } from '../local/common/log';
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
  readonly database: string;
  readonly table: string;
  readonly deadLetterQueueUrl: string;
}

export interface Pipeline {
  readonly config: BuildingConfig;
  readonly cloud: LocalCloud;
  readonly deployed: Deployed;
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

  // 1. Onboard: a key pair and CSR per device, made here; keys are reused on later runs.
  let made = 0;
  for (const d of devices) {
    if (existsSync(join(devicesDir, d.thing, PRIVATE_KEY_FILE))) continue;
    await startOnboarding({ thing: d.thing, configPath: o.configPath, csrDir, devicesDir });
    made++;
  }
  progress(1, 'onboarded devices', `${devices.length} devices, ${made} new key pairs and CSRs`);

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

    return {
      config,
      cloud,
      deployed: {
        devicesDir,
        database: output(STACK_OUTPUT.timestreamDatabase),
        table: output(STACK_OUTPUT.timestreamTable),
        deadLetterQueueUrl: output(STACK_OUTPUT.deadLetterQueueUrl),
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
