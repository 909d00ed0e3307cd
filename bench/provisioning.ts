/**
 * Fleet provisioning through the local cloud, in one process: the building's real
 * pre-provisioning hook (lambda/provisioning-hook, bundled with esbuild as the CDK bundles it,
 * run by the local Lambda), the contract's template and claim policy, one claim, and devices
 * provisioning themselves with `provisionFirstBoot` (key and CSR made per device,
 * CreateCertificateFromCsr and RegisterThing over MQTT with the SDK's iotidentity client, the
 * bundle written).
 *
 * Figures: time to provision one device (the hook warm; median of 5), 200 devices with 8 at a
 * time (median per device and the whole batch), and the process's RSS with 500 provisioned
 * agents connected (cloud and agents share the process, as in the agent stage).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import {
  type BuildingConfig,
  claimPolicyDocument,
  claimPolicyName,
  devicePolicyDocument,
  devicePolicyName,
  devicesOf,
  ENV,
  PROVISIONING_INVENTORY_FILE,
  parseBuildingConfig,
  provisioningInventoryOf,
  provisioningTemplateBody,
  provisioningTemplateName,
} from '../contracts';
import { generateKeyAndCsr } from '../contracts/pki';
import type { Agent } from '../device/agent';
import { loadBundle } from '../device/bundle';
import { type Claim, ClaimSchema } from '../device/provision';
import type { LocalCloud } from '../local/cloud';
import { arn } from '../local/common/account';
import { provisionFirstBoot } from '../provisioning/first-boot';
import { startBenchCloud } from './cloud';
import { type Metric, MIB, median } from './report';

const HOOK_ENTRY = fileURLToPath(new URL('../lambda/provisioning-hook/handler.ts', import.meta.url));
const CONCURRENCY = 8;

/** A fleet building of `n` devices copied from building.json's devices, 10 to a zone. */
function benchBuilding(buildingJson: string, n: number): BuildingConfig {
  const base = parseBuildingConfig(JSON.parse(buildingJson));
  const templates = devicesOf(base);
  const zones = Array.from({ length: Math.ceil(n / 10) }, (_, z) => ({
    id: `z${z}`,
    name: `Zone ${z}`,
    devices: Array.from({ length: Math.min(10, n - z * 10) }, (_, d) => {
      const t = templates[(z * 10 + d) % templates.length]!;
      return { thing: `bench-z${z}-${d}`, senses: t.senses, drives: t.drives };
    }),
  }));
  return parseBuildingConfig({
    buildingId: 'bench',
    name: 'Bench',
    comfort: base.comfort,
    provisioning: 'fleet',
    zones,
  });
}

/** Deploys what the stack would for the building: policies, the hook, the template; and makes a claim. */
async function deployFleet(cloud: LocalCloud, config: BuildingConfig, root: string): Promise<Claim> {
  const registry = cloud.iot.registry;
  const arnOf = (resource: string) => arn(cloud.identity, 'iot', resource);
  registry.createPolicy(devicePolicyName(config.buildingId), JSON.stringify(devicePolicyDocument(arnOf)));
  registry.createPolicy(
    claimPolicyName(config.buildingId),
    JSON.stringify(claimPolicyDocument(config.buildingId, arnOf)),
  );
  const codeDir = join(root, 'hook');
  mkdirSync(codeDir, { recursive: true });
  await build({
    entryPoints: [HOOK_ENTRY],
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    minify: true,
    outfile: join(codeDir, 'index.js'),
    logLevel: 'silent',
  });
  writeFileSync(join(codeDir, PROVISIONING_INVENTORY_FILE), JSON.stringify(provisioningInventoryOf(config)));
  const functionName = 'bench-provisioning-hook';
  const functionArn = arn(cloud.identity, 'lambda', `function:${functionName}`);
  await cloud.lambda.createFunction({
    functionName,
    arn: functionArn,
    codeDir,
    handler: 'index.handler',
    runtime: 'nodejs22.x',
    timeoutSeconds: 5,
    environment: {
      [ENV.buildingId]: config.buildingId,
      [ENV.configFile]: PROVISIONING_INVENTORY_FILE,
      POWERTOOLS_LOG_LEVEL: 'WARN',
    },
  });
  cloud.provisioning.templates.create({
    templateName: provisioningTemplateName(config.buildingId),
    templateBody: JSON.stringify(provisioningTemplateBody(config)),
    provisioningRoleArn: arn(cloud.identity, 'iam', 'role/bench-provisioning'),
    enabled: true,
    preProvisioningHook: { targetArn: functionArn, payloadVersion: '2020-04-01' },
  });
  const material = await generateKeyAndCsr('bench-claim');
  const cert = await registry.createCertificateFromCsr(material.csrPem, true);
  registry.attachPolicy(claimPolicyName(config.buildingId), cert.certificateArn);
  return ClaimSchema.parse({
    v: 1,
    target: 'local',
    building: config.buildingId,
    templateName: provisioningTemplateName(config.buildingId),
    endpoint: { host: '127.0.0.1', port: cloud.endpoints.mqttPort },
    certificateId: cert.certificateId,
    certificatePem: cert.certificatePem,
    privateKeyPem: material.privateKeyPem,
    caPem: readFileSync(cloud.endpoints.caFile, 'utf8'),
  });
}

export interface ProvisioningBenchOptions {
  readonly buildingJson: string;
  /** Devices provisioned in the batch figure. */
  readonly batch: number;
  /** Agents connected for the RSS figure (all provisioned first). */
  readonly agents: number;
  readonly progress?: (line: string) => void;
}

export const DEFAULT_PROVISIONING_BENCH = { batch: 200, agents: 500 } as const;

export async function provisioningBench(o: ProvisioningBenchOptions): Promise<Metric[]> {
  const say = o.progress ?? (() => {});
  const total = Math.max(o.batch + 6, o.agents);
  const config = benchBuilding(o.buildingJson, total);
  const things = devicesOf(config).map((d) => d.thing);
  const bench = await startBenchCloud('provisioning');
  const agents: Agent[] = [];
  try {
    const { cloud, root } = bench;
    const devicesDir = join(root, 'devices');
    const claim = await deployFleet(cloud, config, root);
    const timed = async (thing: string) => {
      const t0 = performance.now();
      await provisionFirstBoot({ thing, claim, devicesDir });
      return performance.now() - t0;
    };
    say('warming the hook with one device');
    const firstMs = await timed(things[0]!);
    const single: number[] = [];
    for (const thing of things.slice(1, 6)) single.push(await timed(thing));
    say(`provisioning ${o.batch} devices, ${CONCURRENCY} at a time`);
    const queue = things.slice(6, 6 + o.batch);
    const each: number[] = [];
    const batchStart = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let t = queue.shift(); t !== undefined; t = queue.shift()) each.push(await timed(t));
      }),
    );
    const batchMs = performance.now() - batchStart;
    const rest = things.slice(6 + o.batch, o.agents);
    say(`provisioning ${rest.length} more devices for the agents`);
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let t = rest.shift(); t !== undefined; t = rest.shift()) await timed(t);
      }),
    );
    const before = process.memoryUsage().rss;
    say(`connecting ${o.agents} provisioned agents`);
    const { runAgent } = await import('../device/agent');
    for (const [i, thing] of things.slice(0, o.agents).entries()) {
      // in waves of 25, as the demo connects them: hundreds of handshakes at once starve the broker
      if (i > 0 && i % 25 === 0) {
        const wave = agents.slice(-25);
        const until = Date.now() + 15_000;
        while (wave.some((a) => !a.stats().online) && Date.now() < until)
          await new Promise((r) => setTimeout(r, 100));
      }
      const bundle = loadBundle(join(devicesDir, thing, 'bundle.json'));
      agents.push(
        await runAgent(bundle, {
          dataDir: join(devicesDir, thing, 'data'),
          sampleOnStart: false,
          policy: { sampleIntervalMs: 600_000 },
          log: () => undefined,
        }),
      );
    }
    const deadline = Date.now() + 120_000;
    while (agents.some((a) => !a.stats().online) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 250));
    const online = agents.filter((a) => a.stats().online).length;
    await new Promise((r) => setTimeout(r, 3_000));
    const rss = process.memoryUsage().rss;
    return [
      {
        id: 'provisioning.oneDevice',
        metric: 'provision one device (hook warm)',
        value: Math.round(median(single)),
        unit: 'ms',
        note: `median of ${single.length}; the first, with the hook's cold start: ${firstMs.toFixed(0)} ms`,
      },
      {
        id: 'provisioning.batchPerDevice',
        metric: `provision ${o.batch} devices, ${CONCURRENCY} at a time`,
        value: Math.round(batchMs / o.batch),
        unit: 'ms/device',
        note: `${(batchMs / 1000).toFixed(1)} s in all; median latency per device ${median(each).toFixed(0)} ms`,
      },
      {
        id: 'provisioning.rssWithAgents',
        metric: `RSS with ${o.agents} provisioned agents connected`,
        value: Math.round(rss / MIB),
        unit: 'MiB',
        note: `${online} online; local cloud and agents in one process; ${(before / MIB).toFixed(0)} MiB before the agents`,
      },
    ];
  } finally {
    for (const a of agents) await a.stop().catch(() => undefined);
    await bench.close();
  }
}
