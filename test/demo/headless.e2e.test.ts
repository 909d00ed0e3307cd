/**
 * The whole demo, headless: onboarding, synth, the local cloud, the deployed pipeline, real
 * agents on a simulated building and the zone controller, over the example building's default
 * simulated day (a Monday, 05:00-20:00 building time), as fast as the pipeline settles.
 *
 * The same options give the same summary: the day is run twice, the second time as if started
 * at another hour of another day (a faked wall clock, 4 days 7 h 13 min earlier), and the two
 * summaries (books, commands, energy, comfort) must be identical byte for byte. What the demo
 * simulates does not depend on the hour it is run.
 *
 * Both runs share one state dir, so the synthesized assembly (cached by input hash) and the
 * device keys are made once; each run starts from an empty local cloud.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { QueryCommand, TimestreamQueryClient } from '@aws-sdk/client-timestream-query';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildingStackName,
  isScheduledOccupied,
  localClientConfig,
  parseBuildingConfigText,
  READING_MEASURE_NAME,
  STACK_OUTPUT,
  STACK_OUTPUTS_FILE,
} from '../../contracts';
import { type Demo, type DemoOptions, type DemoSummary, startDemo } from '../../demo/demo';
import { formatSummary } from '../../demo/summary';
import { recordingLogger } from '../../local/common/log';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CONFIG_PATH = join(REPO_ROOT, 'building.json');
const config = parseBuildingConfigText(readFileSync(CONFIG_PATH, 'utf8'), CONFIG_PATH);

/** How much earlier the second run pretends to start: another day and another hour. */
const STARTED_EARLIER_MS = ((4 * 24 + 7) * 60 + 13) * 60_000;

let root: string;
const logger = recordingLogger();

async function runDemo(
  options: Partial<DemoOptions>,
  inspect?: (demo: Demo) => Promise<void>,
): Promise<DemoSummary> {
  let demo: Demo | undefined;
  try {
    demo = await startDemo({
      repoRoot: REPO_ROOT,
      configPath: CONFIG_PATH,
      stateDir: join(root, 'state'),
      speed: 'max',
      seed: 7,
      headless: true,
      mqttPort: 0,
      apiPort: 0,
      glitchRate: 0.002,
      logger,
      progress: (step, of, title, detail) => logger.info(`[${step}/${of}] ${title} ${detail ?? ''}`),
      ...options,
    });
    await demo.finished;
    const summary = await demo.stop();
    await inspect?.(demo);
    return summary;
  } catch (err) {
    // The demo's log is the first thing to read when a run fails.
    console.error(logger.lines.slice(-40).join('\n'));
    throw err;
  } finally {
    await demo?.close();
  }
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'demo-headless-'));
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

/** Per zone: occupied simulated hours and the share of them not below the comfort band. */
interface StoredComfort {
  readonly occupiedHours: number;
  readonly notColdShare: number;
}

/**
 * Reads the zone's temperature and occupancy readings back from the store (the local
 * Timestream query API) and weighs each reading by the time until the zone's next one.
 */
async function comfortFromStore(
  demo: Demo,
  from: number,
  to: number,
): Promise<Record<string, StoredComfort>> {
  const outputs = JSON.parse(readFileSync(join(demo.cloud.stateDir, STACK_OUTPUTS_FILE), 'utf8')) as Record<
    string,
    Record<string, string>
  >;
  const stack = outputs[buildingStackName(config.buildingId)] ?? {};
  const query = new TimestreamQueryClient(localClientConfig(demo.cloud.endpoints));
  const policy = config.comfort;
  const out: Record<string, StoredComfort> = {};
  try {
    for (const zone of config.zones) {
      const rows: Array<{ t: number; temperature?: number; occupancy?: number }> = [];
      let next: string | undefined;
      do {
        const page = await query.send(
          new QueryCommand({
            QueryString:
              `SELECT time, temperature, occupancy FROM "${stack[STACK_OUTPUT.timestreamDatabase]}"."${stack[STACK_OUTPUT.timestreamTable]}" ` +
              `WHERE measure_name = '${READING_MEASURE_NAME}' AND zone = '${zone.id}' ` +
              `AND time BETWEEN from_milliseconds(${from}) AND from_milliseconds(${to}) ORDER BY time`,
            NextToken: next,
          }),
        );
        for (const row of page.Rows ?? []) {
          const [time, temperature, occupancy] = (row.Data ?? []).map((d) =>
            d.NullValue ? undefined : d.ScalarValue,
          );
          rows.push({
            t: Date.parse(`${time?.replace(' ', 'T').slice(0, 23)}Z`),
            temperature: temperature === undefined ? undefined : Number(temperature),
            occupancy: occupancy === undefined ? undefined : Number(occupancy),
          });
        }
        next = page.NextToken;
      } while (next);
      let temperature: number | undefined;
      let occupancy: number | undefined;
      let occupiedMs = 0;
      let notColdMs = 0;
      rows.forEach((r, i) => {
        temperature = r.temperature ?? temperature;
        occupancy = r.occupancy ?? occupancy;
        const until = rows[i + 1]?.t ?? to;
        if (temperature === undefined || occupancy === undefined || occupancy <= 0) return;
        const setpoint = isScheduledOccupied(policy, r.t)
          ? policy.occupiedSetpoint
          : policy.unoccupiedSetpoint;
        occupiedMs += until - r.t;
        if (temperature >= setpoint - policy.comfortBand) notColdMs += until - r.t;
      });
      out[zone.id] = {
        occupiedHours: occupiedMs / 3_600_000,
        notColdShare: occupiedMs === 0 ? Number.NaN : notColdMs / occupiedMs,
      };
    }
  } finally {
    query.destroy();
  }
  return out;
}

describe('the default simulated day, headless', () => {
  let first: DemoSummary;
  let second: DemoSummary;
  let stored: Record<string, StoredComfort>;

  beforeAll(async () => {
    first = await runDemo({}, async (demo) => {
      stored = await comfortFromStore(demo, demo.window.from, demo.window.to);
    });
    second = await runDemo({ wallClock: () => Date.now() - STARTED_EARLIER_MS });
  }, 600_000);

  it('gives the same summary, byte for byte, when run twice, started at different hours', () => {
    expect(formatSummary(second)).toBe(formatSummary(first));
    // The second run did start at another time of day (and simulated an earlier date or the same).
    expect(second.window.from).toBeLessThanOrEqual(first.window.from);
    expect(second.run.settleTimeouts).toBe(0);
    expect(first.run.settleTimeouts).toBe(0);
  });

  it('simulates the working day of the schedule: two hours before opening to one after closing', () => {
    const { window } = first;
    expect(window).toMatchObject({ weekday: 'mon', fromHhmm: '05:00', toHhmm: '20:00', timezone: 'UTC' });
    expect(window.to - window.from).toBe(15 * 3_600_000);
    expect(window.reached).toBe(window.to);
    expect(window.to).toBeLessThanOrEqual(Date.now());
    expect(isScheduledOccupied(config.comfort, window.from)).toBe(false);
    expect(isScheduledOccupied(config.comfort, window.from + 3 * 3_600_000)).toBe(true);
  });

  it('balances the books: every published reading is stored or dead-lettered', () => {
    const { books } = first;
    expect(books.published).toBeGreaterThan(0);
    expect(books.stored).toBeGreaterThan(0);
    expect(books.published).toBe(books.stored + books.deadLettered);
    expect(books.unaccounted).toBe(0);
    expect(books.dropped).toBe(0);
    expect(books.pending).toBe(0);
  });

  it('counts commands so that applied never exceeds issued, repeats apart', () => {
    const c = first.commands;
    expect(c.issued).toBeGreaterThan(0);
    expect(c.applied).toBeGreaterThan(0);
    expect(c.applied).toBeLessThanOrEqual(c.issued);
    expect(c.issued).toBe(c.applied + c.superseded + c.outstanding);
  });

  it('says on how many occupied hours each comfort figure rests', () => {
    for (const zone of config.zones) {
      const z = first.comfort[zone.id];
      expect(z, zone.id).toBeDefined();
      expect(z?.occupiedHours, zone.id).toBeGreaterThan(1);
      expect(formatSummary(first)).toMatch(new RegExp(`${zone.id}.*over \\d+\\.\\d occupied hours`));
    }
  });

  it('keeps every occupied zone from running below its comfort band for most of the occupied time', () => {
    expect(Object.keys(stored).sort()).toEqual(config.zones.map((z) => z.id).sort());
    for (const [zone, c] of Object.entries(stored)) {
      expect(c.occupiedHours, `${zone} occupied hours`).toBeGreaterThan(1);
      expect(c.notColdShare, `share of ${zone}'s occupied time not below the band`).toBeGreaterThan(0.75);
    }
  });

  it('uses less energy under the zone controller than the fixed schedule', () => {
    expect(first.energy.controlledKWh).toBeGreaterThan(0);
    expect(first.energy.controlledKWh).toBeLessThan(first.energy.baselineKWh);
  });

  it('is at least as comfortable as the fixed schedule in every zone', () => {
    for (const zone of config.zones) {
      const z = first.comfort[zone.id];
      expect(z?.controlled, `${zone.id} under the controller`).not.toBeNull();
      expect(z?.controlled, `${zone.id}: controller vs fixed schedule`).toBeGreaterThanOrEqual(
        z?.baseline as number,
      );
    }
  });
});

describe('a headless demo run with glitching humidity sensors', () => {
  let summary: DemoSummary;

  beforeAll(async () => {
    summary = await runDemo({ hours: 3, glitchRate: 0.2 });
  }, 240_000);

  it('dead-letters the glitched readings as INVALID_READING', () => {
    const reasons = Object.entries(summary.books.deadLetterReasons);
    const invalid = reasons.filter(([reason]) => reason.startsWith('INVALID_READING'));
    expect(invalid.length).toBeGreaterThan(0);
    expect(invalid.reduce((s, [, n]) => s + n, 0)).toBeGreaterThan(0);
    expect(summary.books.deadLettered).toBeGreaterThan(0);
  });

  it('still balances the books with readings dead-lettered', () => {
    const { books } = summary;
    expect(books.published).toBeGreaterThan(books.deadLettered);
    expect(books.published).toBe(books.stored + books.deadLettered);
    expect(books.unaccounted).toBe(0);
  });

  it('simulates the hours asked for, from two hours before opening', () => {
    expect(summary.window).toMatchObject({ fromHhmm: '05:00', toHhmm: '08:00' });
  });
});
