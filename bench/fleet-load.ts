/**
 * Thousands of device agents on one local cloud (the `fleet` stage): the building's pipeline
 * deployed into a local cloud of its own process; `agents` more sensor things made through the IoT
 * API as an operator provisions a fleet (CreateThing with the building, zone and kind attributes
 * the device policy reads, a key and CSR made here, CreateCertificateFromCsr, AttachPolicy with
 * the deployed device policy, AttachThingPrincipal), spread over the building's zones; one real
 * device agent each (device/agent.ts, simulated sensors) in this process, connecting in waves,
 * sampling every 10 s and sending every sample (no deadband, one reading a message). Once all
 * are online they run for `runSeconds`; then they stop (flushing their buffers) and the books
 * must balance: every reading acknowledged (PUBACK) is in Timestream, none dead-lettered.
 *
 * Reported: provisioning time per device at the start and at the end (a registry whose cost
 * grows with the fleet shows here), agents online, the cloud's memory (whole process tree) and
 * its CPU while the fleet runs, and this process's memory per agent.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CreateCertificateFromCsrCommand,
  CreateThingCommand,
  IoTClient,
} from '@aws-sdk/client-iot';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { TimestreamQueryClient } from '@aws-sdk/client-timestream-query';
import { type DevicePlacement, STACK_OUTPUT, thingAttributesOf } from '../contracts';
import { generateKeyAndCsr } from '../contracts/pki';
import type { Agent } from '../device/agent';
import type { DeviceBundle } from '../device/bundle';
import { deviceBundle } from '../provisioning/device-bundle';
import { deployBuilding } from './deployed';
import { storedCount, targetOf } from './pipeline';
import { machineLoad, treeUsage } from './proc';
import { type Metric, MIB, median } from './report';
import { idleTreeMemory } from './spawned';
import { clientConfig } from './target';

export interface FleetOptions {
  readonly agents: number;
  readonly runSeconds: number;
  /** Agents connecting at once. */
  readonly wave: number;
}

export const DEFAULT_FLEET: FleetOptions = { agents: 5_000, runSeconds: 60, wave: 25 };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function fleetStage(
  o: FleetOptions,
  buildingJson: string,
  say: (line: string) => void,
): Promise<Metric[]> {
  const { runAgent } = await import('../device/agent');
  const d = await deployBuilding(buildingJson, say);
  const target = targetOf(d);
  const iot = new IoTClient(clientConfig(target));
  const query = new TimestreamQueryClient(clientConfig(target));
  const sqs = new SQSClient(clientConfig(target));
  const dataRoot = mkdtempSync(join(tmpdir(), 'zonectl-bench-fleet-'));
  const agents: Agent[] = [];
  try {
    const policyName = d.outputs[STACK_OUTPUT.devicePolicyName]!;
    const zones = d.config.zones.map((z) => z.id);
    const idleRss = (await idleTreeMemory(d.cloud.pid, 3_000, 15_000)) ?? 0;

    // Provisioning, 8 devices at a time.
    const devices: DevicePlacement[] = Array.from({ length: o.agents }, (_, i) => ({
      thing: `${d.config.buildingId}-fleet-${String(i).padStart(5, '0')}`,
      senses: ['temperature', 'humidity'],
      drives: [],
      building: d.config.buildingId,
      zone: zones[i % zones.length]!,
      kind: 'sensor',
    }));
    const bundles: DeviceBundle[] = new Array(devices.length);
    const perDevice: number[] = new Array(devices.length);
    let next = 0;
    const provisionStarted = performance.now();
    const worker = async () => {
      while (next < devices.length) {
        const i = next++;
        const device = devices[i]!;
        const t = performance.now();
        await iot.send(
          new CreateThingCommand({
            thingName: device.thing,
            attributePayload: {
              attributes: thingAttributesOf(device),
            },
          }),
        );
        const keys = await generateKeyAndCsr(device.thing);
        const cert = await iot.send(
          new CreateCertificateFromCsrCommand({ certificateSigningRequest: keys.csrPem, setAsActive: true }),
        );
        await iot.send(new AttachPolicyCommand({ policyName, target: cert.certificateArn }));
        await iot.send(
          new AttachThingPrincipalCommand({ thingName: device.thing, principal: cert.certificateArn }),
        );
        perDevice[i] = performance.now() - t;
        bundles[i] = deviceBundle({
          device,
          config: d.config,
          target: 'local',
          endpoint: { host: '127.0.0.1', port: target.mqttPort },
          certificateId: cert.certificateId!,
          certificatePem: cert.certificatePem!,
          privateKeyPem: keys.privateKeyPem,
          caPem: target.caPem,
          region: target.region,
        });
        if ((i + 1) % 500 === 0) say(`provisioned ${i + 1} of ${devices.length}`);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    const provisionSeconds = (performance.now() - provisionStarted) / 1000;
    const window = Math.min(100, Math.floor(devices.length / 2));
    const firstMs = median(perDevice.slice(0, window));
    const lastMs = median(perDevice.slice(-window));

    // Agents, in waves.
    const selfBefore = process.memoryUsage().rss;
    const connectStarted = performance.now();
    for (let i = 0; i < bundles.length; i += o.wave) {
      const wave = bundles.slice(i, i + o.wave);
      const started = await Promise.all(
        wave.map((b) =>
          runAgent(b, {
            dataDir: join(dataRoot, b.thing),
            log: () => {},
            policy: {
              sampleIntervalMs: 10_000,
              heartbeatMs: 10_000,
              batchSize: 1,
              deadband: { temperature: 0, humidity: 0, occupancy: 0, co2: 0, light: 0 },
            },
            link: { minBackoffMs: 1_000, maxBackoffMs: 10_000 },
          }),
        ),
      );
      agents.push(...started);
      const startedSoFar = agents.length;
      const deadline = Date.now() + 60_000;
      while (online(agents) < startedSoFar && Date.now() < deadline) {
        await sleep(50);
      }
      if ((i / o.wave) % 20 === 0)
        say(`${agents.length} agents started, ${online(agents)} online (${machineLoad()})`);
    }
    const connectSeconds = (performance.now() - connectStarted) / 1000;
    say(
      `all ${agents.length} agents started in ${connectSeconds.toFixed(0)} s, ${online(agents)} online; running ${o.runSeconds} s`,
    );

    const cpuBefore = treeUsage(d.cloud.pid).cpuSeconds;
    const publishedBefore = sum(agents, (a) => a.stats().published);
    const rssSamples: number[] = [];
    const runStarted = performance.now();
    while (performance.now() - runStarted < o.runSeconds * 1000) {
      await sleep(2_000);
      rssSamples.push(treeUsage(d.cloud.pid).rssBytes);
    }
    const runSeconds = (performance.now() - runStarted) / 1000;
    const cpuSeconds = treeUsage(d.cloud.pid).cpuSeconds - cpuBefore;
    const publishedInRun = sum(agents, (a) => a.stats().published) - publishedBefore;
    const onlineAtEnd = online(agents);
    const selfAfter = process.memoryUsage().rss;

    say('stopping the agents (they flush their buffers) and checking the books');
    await Promise.allSettled(agents.map((a) => a.stop()));
    const published = sum(agents, (a) => a.stats().published);
    const pending = sum(agents, (a) => a.stats().pending);
    const deadline = Date.now() + 300_000;
    let stored = 0;
    while (Date.now() < deadline) {
      stored = await storedCount(d, query);
      if (stored >= published) break;
      await sleep(1_000);
    }
    const dead = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: d.outputs[STACK_OUTPUT.deadLetterQueueUrl],
        AttributeNames: ['ApproximateNumberOfMessages'],
      }),
    );
    const deadLettered = Number(dead.Attributes?.ApproximateNumberOfMessages ?? 0);
    const cloudRss = median(rssSamples);
    const n = agents.length;
    return [
      {
        id: 'fleet.provisionMsPerDevice',
        metric: `fleet: provisioning per device, first ${window} / last ${window}`,
        value: lastMs,
        unit: 'ms',
        note: `first ${firstMs.toFixed(0)} ms, last ${lastMs.toFixed(0)} ms (CreateThing, CreateCertificateFromCsr, AttachPolicy, AttachThingPrincipal, 8 at a time); ${n} in ${provisionSeconds.toFixed(0)} s`,
      },
      {
        id: 'fleet.online',
        metric: `fleet: agents online after ${runSeconds.toFixed(0)} s`,
        value: onlineAtEnd,
        unit: 'agents',
        note: `of ${n}; connected in waves of ${o.wave} in ${connectSeconds.toFixed(0)} s`,
      },
      {
        id: 'fleet.books',
        metric: 'fleet: published - stored - dead-lettered',
        value: published - stored - deadLettered,
        unit: 'readings',
        note: `${published} readings acknowledged, ${stored} stored, ${deadLettered} dead-lettered, ${pending} still buffered; ${publishedInRun} in the ${runSeconds.toFixed(0)} s run (${(publishedInRun / runSeconds).toFixed(0)}/s)`,
      },
      {
        id: 'fleet.cloudRssMiB',
        metric: 'fleet: cloud memory, whole process tree',
        value: cloudRss / MIB,
        unit: 'MiB',
        note: `median over the run; ${(idleRss / MIB).toFixed(0)} MiB deployed and idle before the agents, so ${((cloudRss - idleRss) / n / 1024).toFixed(0)} KiB per connection`,
      },
      {
        id: 'fleet.cloudCpuPercent',
        metric: 'fleet: cloud CPU while the fleet runs',
        value: (100 * cpuSeconds) / runSeconds,
        unit: '% of a core',
        note: `${((cpuSeconds * 1000) / Math.max(1, publishedInRun)).toFixed(2)} ms per reading; ${machineLoad()}`,
      },
      {
        id: 'fleet.agentRssKiB',
        metric: 'fleet: this process per agent',
        value: (selfAfter - selfBefore) / n / 1024,
        unit: 'KiB',
        note: `RSS of the process running the ${n} agents (aws-crt connections, buffers), per agent`,
      },
    ];
  } finally {
    await Promise.allSettled(agents.map((a) => a.stop()));
    iot.destroy();
    query.destroy();
    sqs.destroy();
    await d.stop();
    rmSync(dataRoot, { recursive: true, force: true });
  }
}

const online = (agents: readonly Agent[]) => agents.filter((a) => a.stats().online).length;
const sum = (agents: readonly Agent[], f: (a: Agent) => number) => agents.reduce((n, a) => n + f(a), 0);
