/**
 * The whole demo on the InfluxDB engine (`storage.engine: influxdb`): synth of the InfluxDB
 * stack, the local cloud creating the instance, its secrets and the token step from the
 * assembly, the ingest function writing with its write-only token, and the books and the
 * dashboard's readings read back through InfluxQL with the read-only token. The books must
 * balance as on Timestream.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildingStackName, localClientConfig, STACK_OUTPUT, STACK_OUTPUTS_FILE } from '../../contracts';
import { readerFromOutputs } from '../../dashboard/readings/from-outputs';
import { type Demo, type DemoSummary, startDemo } from '../../demo/demo';
import { recordingLogger } from '../../local/common/log';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const logger = recordingLogger();
let root: string;
let summary: DemoSummary;
let latestZones: string[] = [];
let engine: unknown;
let seriesZones: string[] = [];

/** A port the OS has free now; the instance listens on the port its template names. */
function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => done(port));
    });
  });
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'demo-influxdb-'));
  const building = JSON.parse(readFileSync(join(REPO_ROOT, 'examples/hq-influxdb.json'), 'utf8'));
  building.storage.influxdb.port = await freePort();
  const configPath = join(root, 'building.json');
  writeFileSync(configPath, JSON.stringify(building, null, 2));
  let demo: Demo | undefined;
  try {
    demo = await startDemo({
      repoRoot: REPO_ROOT,
      configPath,
      stateDir: join(root, 'state'),
      speed: 'max',
      seed: 3,
      hours: 3,
      headless: true,
      mqttPort: 0,
      apiPort: 0,
      glitchRate: 0.01,
      logger,
      progress: (step, of, title, detail) => logger.info(`[${step}/${of}] ${title} ${detail ?? ''}`),
    });
    await demo.finished;
    summary = await demo.stop();
    const outputs = JSON.parse(readFileSync(join(demo.cloud.stateDir, STACK_OUTPUTS_FILE), 'utf8'))[
      buildingStackName(building.buildingId)
    ] as Record<string, string>;
    engine = outputs[STACK_OUTPUT.storageEngine];
    const reader = readerFromOutputs(outputs, localClientConfig(demo.cloud.endpoints), {
      caPem: readFileSync(demo.cloud.endpoints.caFile, 'utf8'),
    });
    try {
      const now = demo.simNow();
      latestZones = [...new Set((await reader.latest(demo.window.from, now)).map((r) => r.zone))].sort();
      seriesZones = [
        ...new Set((await reader.series('temperature', demo.window.from, now, 15)).map((r) => r.zone)),
      ].sort();
    } finally {
      reader.close();
    }
  } catch (err) {
    console.error(logger.lines.slice(-60).join('\n'));
    throw err;
  } finally {
    await demo?.close();
  }
}, 300_000);

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('the demo on Timestream for InfluxDB', () => {
  it('deploys the InfluxDB engine', () => {
    expect(engine).toBe('influxdb');
  });

  it('stores readings and balances the books: published - stored - dead-lettered = 0', () => {
    expect(summary.books.published).toBeGreaterThan(50);
    expect(summary.books.stored).toBeGreaterThan(0);
    expect(summary.books.unaccounted).toBe(0);
  });

  it('answers the dashboard with the latest readings and chart series of every zone', () => {
    expect(latestZones).toEqual(['floor1-east', 'lobby', 'meeting-a']);
    expect(seriesZones.length).toBeGreaterThan(0);
  });

  it('issues commands from the readings, as on Timestream', () => {
    expect(summary.commands.issued).toBeGreaterThan(0);
  });
});
