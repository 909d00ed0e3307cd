import { createWriteStream } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { WEEKDAYS, type Weekday } from '../contracts/weekdays';
import type { Demo, DemoSummary } from '../demo/demo';
import type { LocalLogger } from '../local/common/log';
import { buildingConfigFile, directoryToUse, numberIn, oneOf, option, port } from './options';
import { failureText } from './run';

/**
 * `zonectl start` (what `npm start` runs): the whole pipeline with a simulated building and
 * the dashboard, or `--headless` for scripts and CI, which prints the summary and exits. The
 * demo (local cloud, agents, simulation) loads when the command runs.
 */
export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description('Run the whole pipeline locally with a simulated building and the live dashboard')
    .addOption(
      option(
        '--hours <h>',
        'simulated hours from two hours before opening (default: the working day, until an hour after closing)',
        numberIn({ what: 'a number of hours', min: 0, minExclusive: true, max: 24, example: 'e.g. 6' }),
      ).conflicts('duration'),
    )
    .addOption(
      option(
        '--duration <seconds>',
        'simulate --speed times this many seconds: the wall-clock time the run takes when the pipeline keeps up',
        numberIn({ what: 'a number of seconds', min: 0, minExclusive: true, example: 'e.g. 60' }),
      ),
    )
    .addOption(
      option(
        '--speed <factor>',
        "simulated seconds per wall-clock second at most (720 = a day in 2 minutes), or 'max'",
        speed,
        720,
      ),
    )
    .addOption(
      option(
        '--day <weekday>',
        "the weekday to simulate (default: the schedule's first day)",
        oneOf(WEEKDAYS),
      ),
    )
    .option('--headless', 'no dashboard; print the summary at the end of the simulated day and exit')
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
        'where the demo keeps keys, the assembly and the local cloud state (emptied of the last run)',
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
    .action(async (opts: StartOptions, command: Command) => {
      if (opts.duration !== undefined && opts.speed === 'max') {
        command.error(
          "error: option '--duration <seconds>' needs a --speed factor to turn into simulated time; with --speed max, give --hours",
        );
      }
      const code = await runStart(opts);
      process.exit(code);
    });
}

/** --speed: a factor above 0, or 'max'. */
const speed = (value: string): number | 'max' =>
  value === 'max'
    ? 'max'
    : numberIn({
        what: 'a factor',
        min: 0,
        minExclusive: true,
        max: 1_000_000,
        example: "e.g. 720, or 'max'",
      })(value);

interface StartOptions {
  hours?: number;
  duration?: number;
  speed: number | 'max';
  day?: Weekday;
  headless?: boolean;
  seed: number;
  stateDir: string;
  config: string;
  mqttPort: number;
  apiPort: number;
  glitchRate: number;
}

/** How long a stopping demo waits, in all, for the pipeline to account for every reading. */
const STOP_BUDGET_S = 60;

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

async function runStart(opts: StartOptions): Promise<number> {
  const [{ startDemo }, { consoleLogger }, { claimStateDir }, { formatRun, formatSummary }] =
    await Promise.all([
      import('../demo/demo'),
      import('../local/common/log'),
      import('../demo/state-dir'),
      import('../demo/summary'),
    ]);
  const stateDir = resolve(opts.stateDir);
  try {
    claimStateDir(stateDir);
  } catch (err) {
    console.error(`zonectl: ${failureText(err)}`);
    return 1;
  }
  const logFile = join(stateDir, 'demo.log');
  const logger = fileLogger(logFile, consoleLogger);
  // --duration is the wall-clock time of a run that keeps up: it fixes the simulated hours.
  const hours =
    opts.hours ?? (opts.duration !== undefined ? (opts.duration * (opts.speed as number)) / 3600 : undefined);
  const ends = opts.headless || hours !== undefined;
  console.log(`zonectl: the smart-building pipeline on this machine (logs: ${logFile})`);
  let demo: Demo;
  try {
    demo = await startDemo({
      repoRoot: REPO_ROOT,
      configPath: resolve(opts.config),
      stateDir,
      speed: opts.speed,
      seed: opts.seed,
      hours: hours === undefined ? undefined : Math.min(24, hours),
      day: opts.day,
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
  const w = demo.window;
  console.log(`ready in ${(demo.startupMs / 1000).toFixed(1)} s`);
  if (demo.dashboardUrl) console.log(`\n  dashboard: ${demo.dashboardUrl}\n`);
  console.log(
    `simulating ${w.fromHhmm}-${w.toHhmm} building time on ${w.date.weekday} ${w.date.year}-${String(w.date.month).padStart(2, '0')}-${String(w.date.day).padStart(2, '0')}; ${ends ? 'the summary follows at the end' : 'Ctrl-C stops everything and prints the summary'}`,
  );

  const finish = async (reason: string): Promise<number> => {
    console.log(
      `\n${reason}: stopping agents and letting the pipeline settle (up to ${STOP_BUDGET_S} s; ${reason === 'SIGINT' ? 'Ctrl-C again' : 'Ctrl-C'} stops without waiting)...`,
    );
    let summary: DemoSummary;
    try {
      summary = await demo.stop({
        budgetMs: STOP_BUDGET_S * 1000,
        waiting: (what) => console.log(`  still waiting for ${what}...`),
      });
    } finally {
      await demo.close();
    }
    console.log(`\n${formatSummary(summary)}\n${formatRun(summary)}`);
    return summary.books.unaccounted === 0 ? 0 : 1;
  };

  return new Promise<number>((done) => {
    let finishing = false;
    const go = (reason: string) => {
      if (finishing) return;
      finishing = true;
      // A second Ctrl-C ends the wait; the summary then says what was not accounted for.
      process.once('SIGINT', () => {
        console.log('\nSIGINT again: stopping without waiting for the pipeline...');
        demo.hurry();
      });
      finish(reason).then(done, (err) => {
        console.error(`stopping failed: ${failureText(err)}`);
        done(1);
      });
    };
    process.once('SIGINT', () => go('SIGINT'));
    process.once('SIGTERM', () => go('SIGTERM'));
    demo.finished.then(
      () => {
        if (finishing) return;
        if (ends) go('the simulated day is over');
        else
          console.log(
            `\nThe simulated day is over (${w.toHhmm} building time); the dashboard stays up. Ctrl-C stops everything and prints the summary.`,
          );
      },
      (err) => {
        console.error(`the simulation failed: ${failureText(err)}`);
        go('the simulation failed');
      },
    );
  });
}

/** Local cloud and agent logs go to a file; errors also to the console. */
function fileLogger(
  path: string,
  consoleLogger: typeof import('../local/common/log').consoleLogger,
): LocalLogger {
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
