/**
 * `npm run bench`: the project's figures from one run, printed as a table and written to
 * bench/results/latest.json. See bench/README.md for what each figure means.
 *
 *   npm run bench                                  the default stages (several minutes)
 *   npm run bench -- --only edge,metering          some stages
 *   npm run bench -- --only fleet --fleet-agents 5000
 *   npm run bench -- --peer-endpoint http://localhost:4566 --peer-mqtt localhost:8883 --peer-ca ca.pem
 *
 * Every stage has a time limit; a stage that fails or runs out of time is reported and the
 * others still run. Exits 0 when every stage succeeded, 1 otherwise. The goals are reported as
 * met or not; they do not change the exit code. Only localhost traffic, or the peer's endpoint.
 */
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { agentMemoryBench, DEFAULT_AGENT_BENCH } from './agents';
import { DEFAULT_LOADS } from './compare';
import { DEFAULT_FLEET, fleetStage } from './fleet-load';
import { goalMetrics, goals, REFERENCE_PEER } from './goals';
import { edgeMetrics, meteringMetrics } from './message-figures';
import { machineLoad } from './proc';
import { DEFAULT_PROVISIONING_BENCH, provisioningBench } from './provisioning';
import { registryMetrics } from './registry';
import {
  type BenchReport,
  errorText,
  formatTable,
  type Metric,
  type StageOutcome,
  withTimeout,
  writeReport,
} from './report';
import { buildZonectl } from './spawned';
import {
  brokerStage,
  bundleStage,
  type Collected,
  loopStage,
  peerStage,
  pipelineStage,
  startupStage,
} from './stages';
import { endToEndMetrics, rulesEngineMetrics, timestreamMetrics } from './throughput';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..');
export const RESULTS_FILE = join(HERE, 'results', 'latest.json');
/** The whole run stops after the selected stages' limits and this much more. */
const RUN_MARGIN_MS = 30_000;

interface Stage {
  readonly name: string;
  readonly title: string;
  readonly limitMs: number;
  /** Runs only when named in --only (or, for the peer, when --peer-endpoint is given). */
  readonly optIn?: boolean;
  run(): Promise<Metric[]> | Metric[];
}

function argValue(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

function positiveInt(text: string | undefined, name: string, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`${name} needs a whole number of at least 1, got ${text}`);
    process.exit(2);
  }
  return n;
}

function stagesFor(args: readonly string[], buildingJson: string, collected: Collected): Stage[] {
  const agents = positiveInt(argValue(args, '--agents'), '--agents', DEFAULT_AGENT_BENCH.agents);
  const agentSeconds = positiveInt(
    argValue(args, '--agent-seconds'),
    '--agent-seconds',
    DEFAULT_AGENT_BENCH.runMs / 1000,
  );
  const progress = (line: string) => console.error(`  ${line}`);
  const pipelineMessages = positiveInt(argValue(args, '--pipeline-messages'), '--pipeline-messages', 5_000);
  const loopTrials = positiveInt(argValue(args, '--loop-trials'), '--loop-trials', 60);
  const fleetAgents = positiveInt(argValue(args, '--fleet-agents'), '--fleet-agents', DEFAULT_FLEET.agents);
  const fleetSeconds = positiveInt(
    argValue(args, '--fleet-seconds'),
    '--fleet-seconds',
    DEFAULT_FLEET.runSeconds,
  );
  const peerEndpoint = argValue(args, '--peer-endpoint');
  const peerMqtt = argValue(args, '--peer-mqtt');
  const peerCa = argValue(args, '--peer-ca');
  const peerStart = argValue(args, '--peer-start');
  const peerName = argValue(args, '--peer-name') ?? 'peer';
  const all: Stage[] = [
    {
      name: 'agents',
      title: `agent memory, ${agents} agents`,
      limitMs: 90_000 + agentSeconds * 1000,
      run: () =>
        agentMemoryBench({
          agents,
          runMs: agentSeconds * 1000,
          sampleIntervalMs: DEFAULT_AGENT_BENCH.sampleIntervalMs,
          firstWave: Math.min(DEFAULT_AGENT_BENCH.firstWave, Math.floor(agents / 5)),
          buildingJson,
          progress,
        }),
    },
    { name: 'edge', title: 'edge policy messages', limitMs: 20_000, run: () => edgeMetrics(buildingJson) },
    {
      name: 'provisioning',
      title: `fleet provisioning, ${DEFAULT_PROVISIONING_BENCH.batch} devices and ${DEFAULT_PROVISIONING_BENCH.agents} agents`,
      limitMs: 240_000,
      run: () => provisioningBench({ buildingJson, ...DEFAULT_PROVISIONING_BENCH, progress }),
    },
    {
      name: 'metering',
      title: 'Timestream write metering',
      limitMs: 20_000,
      run: () => meteringMetrics(buildingJson),
    },
    { name: 'rules', title: 'rules engine SQL', limitMs: 30_000, run: () => rulesEngineMetrics() },
    { name: 'timestream', title: 'local Timestream writes', limitMs: 40_000, run: () => timestreamMetrics() },
    {
      name: 'e2e',
      title: 'MQTT -> rules -> SQS',
      limitMs: 40_000,
      run: () => endToEndMetrics({ messages: 2_000, inFlight: 20, buildingJson }),
    },
    { name: 'lambda', title: 'Lambda bundles', limitMs: 60_000, run: () => bundleStage(collected) },
    {
      name: 'startup',
      title: 'zonectl --help, local up start-up and idle memory',
      limitMs: 180_000,
      run: () => startupStage(collected, 5, progress),
    },
    {
      name: 'broker',
      title: 'broker and shadow loads on a local cloud of its own process',
      limitMs: 240_000,
      run: () => brokerStage(collected, DEFAULT_LOADS, progress),
    },
    {
      name: 'pipeline',
      title: 'the pipeline against the raw broker',
      limitMs: 600_000,
      run: () =>
        pipelineStage(collected, { messages: pipelineMessages, inFlight: 50 }, buildingJson, progress),
    },
    {
      name: 'loop',
      title: 'closed loop: a reading -> the actuator reports',
      limitMs: 300_000,
      run: () => loopStage(collected, loopTrials, buildingJson, progress),
    },
    {
      name: 'fleet',
      title: `${fleetAgents.toLocaleString('en-US')} device agents on one local cloud`,
      limitMs: 3_600_000,
      optIn: true,
      run: () =>
        fleetStage(
          { ...DEFAULT_FLEET, agents: fleetAgents, runSeconds: fleetSeconds },
          buildingJson,
          progress,
        ),
    },
    {
      name: 'peer',
      title: `the same loads against ${peerName}`,
      limitMs: 900_000,
      optIn: true,
      run: () => {
        if (!peerEndpoint || !peerMqtt || !peerCa) {
          throw new Error('the peer stage needs --peer-endpoint, --peer-mqtt and --peer-ca');
        }
        return peerStage(
          collected,
          {
            endpoint: peerEndpoint,
            mqtt: peerMqtt,
            caFile: peerCa,
            region: argValue(args, '--peer-region') ?? 'us-east-1',
            name: peerName,
            ...(peerStart ? { start: peerStart } : {}),
          },
          DEFAULT_LOADS,
          progress,
        );
      },
    },
    {
      name: 'registry',
      title: 'IoT registry: provisioning cost early and late in a fleet',
      limitMs: 120_000,
      run: () =>
        registryMetrics({
          fleetSize: positiveInt(argValue(args, '--registry-fleet'), '--registry-fleet', 2_000),
          window: 50,
          progress,
        }),
    },
  ];
  const only = argValue(args, '--only');
  if (!only) return all.filter((s) => !s.optIn || (s.name === 'peer' && peerEndpoint));
  const wanted = only.split(',').map((s) => s.trim());
  const unknown = wanted.filter((w) => !all.some((s) => s.name === w));
  if (unknown.length > 0) {
    console.error(`unknown stage ${unknown.join(', ')}; stages: ${all.map((s) => s.name).join(', ')}`);
    process.exit(2);
  }
  return all.filter((s) => wanted.includes(s.name));
}

const USAGE = `usage: npm run bench -- [--only STAGES] [options]
stages: agents, edge, provisioning, metering, rules, timestream, e2e, registry, lambda, startup, broker, pipeline, loop
        (the default set), fleet and peer (run when named, or the peer when --peer-endpoint is given)
  --agents N --agent-seconds S        the agent memory stage (default 50 agents, 20 s)
  --pipeline-messages N               messages per pipeline run (default 5000)
  --loop-trials N                     closed-loop trials (default 60)
  --registry-fleet N                  the registry stage's fleet size (default 2000)
  --fleet-agents N --fleet-seconds S  the fleet stage (default 5000 agents, 60 s)
  --peer-endpoint URL                 an AWS-compatible endpoint (IoT, IoT data, SQS) to run the same loads against
  --peer-mqtt HOST:PORT               its MQTT over TLS listener
  --peer-ca FILE                      the CA that signed its broker's server certificate
  --peer-region R                     default us-east-1
  --peer-start 'COMMAND'              a shell command that starts the peer (nothing may answer at the endpoint
                                      yet): start-up and idle memory are measured too
  --peer-name NAME                    the peer's name in the figures (default peer)`;

function machine(): BenchReport['machine'] {
  const cpuList = cpus();
  return {
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    cpus: cpuList.length,
    cpuModel: cpuList[0]?.model ?? 'unknown',
    totalMemoryMiB: Math.round(totalmem() / 1024 / 1024),
  };
}

async function main(args: readonly string[]): Promise<void> {
  if (args.includes('--help')) {
    console.log(USAGE);
    process.exit(0);
  }
  const buildingJson = readFileSync(join(ROOT, 'building.json'), 'utf8');
  buildZonectl();
  const collected: Collected = { ours: {} };
  const stages = stagesFor(args, buildingJson, collected);
  const runLimitMs = stages.reduce((n, s) => n + s.limitMs, RUN_MARGIN_MS);
  const startedAt = new Date();
  const outcomes: StageOutcome[] = [];
  const report = (): BenchReport => ({
    startedAt: startedAt.toISOString(),
    seconds: (Date.now() - startedAt.getTime()) / 1000,
    machine: machine(),
    load: machineLoad(),
    stages: outcomes,
  });

  const watchdog = setTimeout(() => {
    console.error(`bench: the run passed ${runLimitMs / 1000} s; writing what is done and stopping`);
    writeReport(RESULTS_FILE, report());
    process.exit(1);
  }, runLimitMs);
  watchdog.unref();

  for (const [i, stage] of stages.entries()) {
    console.error(`[${i + 1}/${stages.length}] ${stage.title}`);
    const t0 = Date.now();
    try {
      const metrics = await withTimeout(stage.title, stage.limitMs, Promise.resolve().then(stage.run));
      outcomes.push({ stage: stage.name, ok: true, seconds: (Date.now() - t0) / 1000, metrics });
    } catch (err) {
      console.error(`  failed: ${errorText(err)}`);
      outcomes.push({
        stage: stage.name,
        ok: false,
        seconds: (Date.now() - t0) / 1000,
        error: errorText(err),
        metrics: [],
      });
    }
    console.error(`  ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }

  const peer = collected.peer ?? REFERENCE_PEER;
  const goalList = goals({ ...collected, peer });
  outcomes.push({ stage: 'goals', ok: true, seconds: 0, metrics: goalMetrics(goalList) });
  const final = report();
  writeReport(RESULTS_FILE, final);
  console.log('');
  console.log(formatTable(outcomes.flatMap((o) => o.metrics)));
  const failed = outcomes.filter((o) => !o.ok);
  for (const f of failed) console.log(`\nstage ${f.stage} FAILED: ${f.error}`);
  console.log(
    `\n${final.seconds.toFixed(0)} s on ${final.machine.cpus} x ${final.machine.cpuModel}, Node ${final.machine.node}, ${final.load} at the end; written to ${RESULTS_FILE}`,
  );
  // aws-crt keeps native handles (its event loop group) after the last connection closes
  process.exit(failed.length === 0 ? 0 : 1);
}

main(process.argv.slice(2)).catch((err) => {
  console.error(`bench failed: ${errorText(err)}`);
  process.exit(1);
});
