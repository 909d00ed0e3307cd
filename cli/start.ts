import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { type Demo, type DemoSummary, startDemo } from '../demo/demo';
import { consoleLogger, errorText, type LocalLogger } from '../local/common/log';
import { buildingConfigFile, directoryToUse, numberIn, option, port } from './options';
import { failureText } from './run';

/**
 * `zonectl start` (what `npm start` runs): the whole pipeline with a simulated building and
 * the dashboard, or `--headless` for scripts and CI, which prints the summary and exits.
 */
export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description('Run the whole pipeline locally with a simulated building and the live dashboard')
    .addOption(
      option(
        '--duration <seconds>',
        'stop after this many wall-clock seconds (default: until Ctrl-C)',
        numberIn({ what: 'a number of seconds', min: 0, minExclusive: true, example: 'e.g. 60' }),
      ),
    )
    .addOption(
      option(
        '--speed <factor>',
        'simulated seconds per wall-clock second (720 = a day in 2 minutes)',
        numberIn({ what: 'a number', min: 0, minExclusive: true, max: 1_000_000, example: 'e.g. 720' }),
        720,
      ),
    )
    .option('--headless', 'no dashboard; print a summary at the end and exit')
    .addOption(
      option(
        '--seed <n>',
        'seed of the simulated weather, people and sensors',
        numberIn({ what: 'a whole number', min: 0, max: 4_294_967_295, integer: true, example: 'e.g. 7' }),
        1,
      ),
    )
    .addOption(
      option(
        '--state-dir <dir>',
        'where the demo keeps keys, the assembly and the local cloud state',
        directoryToUse('a directory'),
        '.zonectl/demo',
      ),
    )
    .addOption(option('--config <file>', 'building config', buildingConfigFile, 'building.json'))
    .addOption(
      option('--mqtt-port <n>', 'MQTT over TLS port (falls back to a free port when taken)', port, 8883),
    )
    .addOption(
      option(
        '--api-port <n>',
        'AWS API and dashboard port (falls back to a free port when taken)',
        port,
        4600,
      ),
    )
    .addOption(
      option(
        '--glitch-rate <p>',
        'chance per reading that a humidity sensor glitches',
        numberIn({ what: 'a probability', min: 0, max: 1, example: 'e.g. 0.002' }),
        0.002,
      ),
    )
    .action(async (opts: StartOptions) => {
      const code = await runStart(opts);
      process.exit(code);
    });
}

interface StartOptions {
  duration?: number;
  speed: number;
  headless?: boolean;
  seed: number;
  stateDir: string;
  config: string;
  mqttPort: number;
  apiPort: number;
  glitchRate: number;
}

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

async function runStart(opts: StartOptions): Promise<number> {
  if (opts.headless && opts.duration === undefined) opts.duration = 60;
  const stateDir = resolve(opts.stateDir);
  mkdirSync(stateDir, { recursive: true });
  const logFile = join(stateDir, 'demo.log');
  const logger = fileLogger(logFile);
  console.log(`zonectl: the smart-building pipeline on this machine (logs: ${logFile})`);
  let demo: Demo;
  try {
    demo = await startDemo({
      repoRoot: REPO_ROOT,
      configPath: resolve(opts.config),
      stateDir,
      speed: opts.speed,
      seed: opts.seed,
      durationSeconds: opts.duration,
      headless: opts.headless ?? false,
      mqttPort: opts.mqttPort,
      apiPort: opts.apiPort,
      glitchRate: opts.glitchRate,
      logger,
      progress: (step, of, title, detail) =>
        console.log(`[${step}/${of}] ${title}${detail ? ` — ${detail}` : ''}`),
    });
  } catch (err) {
    console.error(`zonectl start failed: ${failureText(err)}`);
    console.error(`see ${logFile} for the local cloud's log`);
    return 1;
  }
  console.log(`ready in ${(demo.startupMs / 1000).toFixed(1)} s`);
  if (demo.dashboardUrl) console.log(`\n  dashboard: ${demo.dashboardUrl}\n`);
  console.log(
    opts.duration === undefined
      ? 'Ctrl-C stops everything and prints the summary.'
      : `running for ${opts.duration} s of wall-clock time...`,
  );

  const finish = async (reason: string): Promise<number> => {
    console.log(`\n${reason}: stopping agents and letting the pipeline settle...`);
    let summary: DemoSummary;
    try {
      summary = await demo.stop();
    } finally {
      await demo.close();
    }
    printSummary(summary);
    return summary.books.unaccounted === 0 ? 0 : 1;
  };

  return new Promise<number>((done) => {
    let finishing = false;
    const go = (reason: string) => {
      if (finishing) return;
      finishing = true;
      finish(reason).then(done, (err) => {
        console.error(`stopping failed: ${errorText(err)}`);
        done(1);
      });
    };
    process.once('SIGINT', () => go('SIGINT'));
    process.once('SIGTERM', () => go('SIGTERM'));
    if (opts.duration !== undefined) setTimeout(() => go(`${opts.duration} s elapsed`), opts.duration * 1000);
  });
}

export function printSummary(s: DemoSummary): void {
  const b = s.books;
  const pct = (v: number | null) => (v === null ? '  n/a' : `${(v * 100).toFixed(0).padStart(4)}%`);
  const hours = (s.simulated.to - s.simulated.from) / 3_600_000;
  const saving = s.energy.baselineKWh > 0 ? 1 - s.energy.controlledKWh / s.energy.baselineKWh : 0;
  const lines = [
    '',
    'Summary',
    `  simulated         ${hours.toFixed(1)} h, ${new Date(s.simulated.from).toISOString()} .. ${new Date(s.simulated.to).toISOString()}`,
    `  startup           ${(s.startupMs / 1000).toFixed(1)} s`,
    `  readings published ${b.published} (in ${s.messages} MQTT messages)`,
    `  readings stored    ${b.stored}`,
    `  dead-lettered      ${b.deadLettered}`,
    ...Object.entries(b.deadLetterReasons).map(([reason, n]) => `      ${n} x ${reason}`),
    `  published - stored - dead-lettered = ${b.unaccounted}${b.unaccounted === 0 ? ' (the books balance)' : ' (NOT balanced: readings unaccounted for)'}`,
    ...(b.pending > 0 ? [`  readings still buffered on devices: ${b.pending}`] : []),
    ...(b.dropped > 0 ? [`  readings dropped by full device buffers: ${b.dropped}`] : []),
    `  commands issued    ${s.commandsIssued}`,
    `  commands applied   ${s.commandsApplied}`,
    `  energy (simulation) ${s.energy.controlledKWh.toFixed(1)} kWh with the zone controller, ${s.energy.baselineKWh.toFixed(1)} kWh with a fixed schedule (${(saving * 100).toFixed(0)}% less)`,
    '  comfort (simulation): share of occupied time within the comfort band',
    ...Object.entries(s.comfort).map(
      ([zone, c]) =>
        `      ${zone.padEnd(14)} controller ${pct(c.controlled)}   fixed schedule ${pct(c.baseline)}`,
    ),
    '  Energy and comfort are results of a simulated building and day, not a promise for a real one.',
  ];
  console.log(lines.join('\n'));
}

/** Local cloud and agent logs go to a file, warnings and errors also to the console. */
function fileLogger(path: string): LocalLogger {
  const out = createWriteStream(path, { flags: 'a' });
  const base = consoleLogger('local', (line) => out.write(`${line}\n`));
  const wrap = (l: LocalLogger): LocalLogger => ({
    info: (m) => l.info(m),
    warn: (m) => {
      l.warn(m);
    },
    error: (m) => {
      l.error(m);
      console.error(`error: ${m}`);
    },
    child: (s) => wrap(l.child(s)),
  });
  return wrap(base);
}
