/**
 * `npm run bench`: the project's figures from one run, printed as a table and written to
 * bench/results/latest.json. See bench/README.md for what each figure means.
 *
 *   npm run bench                                  all stages (about a minute)
 *   npm run bench -- --only edge,metering          some stages
 *   npm run bench -- --agents 20 --agent-seconds 10
 *
 * Every stage has a time limit; a stage that fails or runs out of time is reported and the
 * others still run. Exits 0 when every stage succeeded, 1 otherwise. Only localhost traffic.
 */
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { agentMemoryBench, DEFAULT_AGENT_BENCH } from './agents';
import { edgeMetrics, meteringMetrics } from './message-figures';
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
import { endToEndMetrics, rulesEngineMetrics, timestreamMetrics } from './throughput';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..');
export const RESULTS_FILE = join(HERE, 'results', 'latest.json');
/** The whole run stops here, whatever a stage is doing. */
const RUN_LIMIT_MS = 420_000;

interface Stage {
  readonly name: string;
  readonly title: string;
  readonly limitMs: number;
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

function stagesFor(args: readonly string[], buildingJson: string): Stage[] {
  const agents = positiveInt(argValue(args, '--agents'), '--agents', DEFAULT_AGENT_BENCH.agents);
  const agentSeconds = positiveInt(
    argValue(args, '--agent-seconds'),
    '--agent-seconds',
    DEFAULT_AGENT_BENCH.runMs / 1000,
  );
  const progress = (line: string) => console.error(`  ${line}`);
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
    {
      name: 'registry',
      title: 'IoT registry: provisioning cost early and late in a fleet',
      limitMs: 120_000,
      run: () =>
        registryMetrics({
          fleetSize: positiveInt(argValue(args, '--fleet'), '--fleet', 2_000),
          window: 50,
          progress,
        }),
    },
  ];
  const only = argValue(args, '--only');
  if (!only) return all;
  const wanted = only.split(',').map((s) => s.trim());
  const unknown = wanted.filter((w) => !all.some((s) => s.name === w));
  if (unknown.length > 0) {
    console.error(`unknown stage ${unknown.join(', ')}; stages: ${all.map((s) => s.name).join(', ')}`);
    process.exit(2);
  }
  return all.filter((s) => wanted.includes(s.name));
}

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
    console.log(
      'usage: npm run bench -- [--only agents,edge,provisioning,metering,rules,timestream,e2e,registry] [--agents N] [--agent-seconds S] [--fleet N]',
    );
    process.exit(0);
  }
  const buildingJson = readFileSync(join(ROOT, 'building.json'), 'utf8');
  const stages = stagesFor(args, buildingJson);
  const startedAt = new Date();
  const outcomes: StageOutcome[] = [];
  const report = (): BenchReport => ({
    startedAt: startedAt.toISOString(),
    seconds: (Date.now() - startedAt.getTime()) / 1000,
    machine: machine(),
    stages: outcomes,
  });

  const watchdog = setTimeout(() => {
    console.error(`bench: the run passed ${RUN_LIMIT_MS / 1000} s; writing what is done and stopping`);
    writeReport(RESULTS_FILE, report());
    process.exit(1);
  }, RUN_LIMIT_MS);
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

  const final = report();
  writeReport(RESULTS_FILE, final);
  console.log('');
  console.log(formatTable(outcomes.flatMap((o) => o.metrics)));
  const failed = outcomes.filter((o) => !o.ok);
  for (const f of failed) console.log(`\nstage ${f.stage} FAILED: ${f.error}`);
  console.log(
    `\n${final.seconds.toFixed(0)} s on ${final.machine.cpus} x ${final.machine.cpuModel}, Node ${final.machine.node}; written to ${RESULTS_FILE}`,
  );
  // aws-crt keeps native handles (its event loop group) after the last connection closes
  process.exit(failed.length === 0 ? 0 : 1);
}

main(process.argv.slice(2)).catch((err) => {
  console.error(`bench failed: ${errorText(err)}`);
  process.exit(1);
});
