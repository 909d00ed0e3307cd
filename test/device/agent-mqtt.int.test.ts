import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { COMMAND_SHADOW_NAME, parseReadingMessage, type Reading } from '../../contracts';
import { type Agent, runAgent } from '../../device/agent';
import { type SensorDriver, simulatedActuators } from '../../device/drivers';
import { createTestPki, type TestPki } from '../helpers/pki';
import { createTestBroker, type TestBroker } from './support/broker';
import { testBundle, waitFor } from './support/bundle';

let pki: TestPki;
let broker: TestBroker | undefined;
let agent: Agent | undefined;
let dir: string;
const lines: string[] = [];
const log = (line: string) => lines.push(line);

beforeAll(async () => {
  pki = await createTestPki();
});

afterEach(async () => {
  await agent?.stop();
  agent = undefined;
  await broker?.close().catch(() => undefined);
  broker = undefined;
  rmSync(dir, { recursive: true, force: true });
  lines.length = 0;
});

/** A sensor whose next value the test sets. */
function steppedSensor(): SensorDriver & { temperature: number } {
  const s = {
    kinds: ['temperature'] as const,
    temperature: 20,
    async read() {
      s.temperature += 0.5;
      return { temperature: s.temperature };
    },
  };
  return s;
}

function readingsOf(b: TestBroker, topic: string): Reading[] {
  return b.published
    .filter((m) => m.topic === topic)
    .flatMap((m) => {
      const parsed = parseReadingMessage(JSON.parse(m.payload));
      return parsed.ok ? parsed.valid : [];
    });
}

const fast = { minBackoffMs: 50, maxBackoffMs: 200, stableAfterMs: 100 };
const manual = { sampleOnStart: false, log } as const;

describe('agent over mutual TLS', () => {
  it('publishes readings at QoS 1 on its telemetry topic as contract messages', async () => {
    dir = mkdtempSync(join(tmpdir(), 'agent-'));
    broker = await createTestBroker(pki);
    const bundle = await testBundle(pki, broker.port, { drives: [] });
    agent = await runAgent(bundle, {
      dataDir: dir,
      sensors: [steppedSensor()],
      policy: { sampleIntervalMs: 3_600_000, batchSize: 3 },
      link: fast,
      ...manual,
    });
    await waitFor(() => agent!.stats().online, 10_000, 'connect');
    for (let i = 0; i < 6; i++) await agent.sample();
    await waitFor(() => agent!.stats().pending === 0, 10_000, 'acks');
    const readings = readingsOf(broker, bundle.topics.telemetry);
    expect(readings.map((r) => r.seq)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(agent.stats().pending).toBe(0);
  });

  it('applies a desired change, reports it with a clientToken and clears the delta', async () => {
    dir = mkdtempSync(join(tmpdir(), 'agent-'));
    broker = await createTestBroker(pki);
    const bundle = await testBundle(pki, broker.port, { senses: [] });
    const actuators = simulatedActuators(bundle.drives);
    agent = await runAgent(bundle, {
      dataDir: dir,
      sensors: [],
      actuators: [actuators],
      link: fast,
      ...manual,
    });
    const key = `${bundle.thing}/${COMMAND_SHADOW_NAME}`;
    await waitFor(() => broker!.shadows.get(key)?.reported.mode === 'cloud', 10_000, 'first report');
    broker.setDesired(bundle.thing, COMMAND_SHADOW_NAME, { heating: 'on', ventilation: 'high' });
    await waitFor(() => broker!.shadows.get(key)?.reported.heating === 'on', 10_000, 'heating reported');
    expect(actuators.state()).toEqual({ heating: 'on', ventilation: 'high' });
    const shadow = broker.shadows.get(key)!;
    expect(shadow.reported).toMatchObject({ heating: 'on', ventilation: 'high', mode: 'cloud' });
    const update = broker.published
      .filter((m) => m.topic.endsWith(`/name/${COMMAND_SHADOW_NAME}/update`))
      .at(-1)!;
    expect(JSON.parse(update.payload).clientToken).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refuses an out-of-range desired value and reports why', async () => {
    dir = mkdtempSync(join(tmpdir(), 'agent-'));
    broker = await createTestBroker(pki);
    const bundle = await testBundle(pki, broker.port, { senses: [] });
    const actuators = simulatedActuators(bundle.drives);
    agent = await runAgent(bundle, {
      dataDir: dir,
      sensors: [],
      actuators: [actuators],
      link: fast,
      ...manual,
    });
    const key = `${bundle.thing}/${COMMAND_SHADOW_NAME}`;
    await waitFor(() => broker!.shadows.get(key)?.reported.mode === 'cloud', 10_000, 'first report');
    broker.setDesired(bundle.thing, COMMAND_SHADOW_NAME, { ventilation: 'turbo', lighting: 50 });
    await waitFor(() => broker!.shadows.get(key)?.reported.rejected !== undefined, 10_000, 'rejection');
    const rejected = broker.shadows.get(key)!.reported.rejected as Record<string, string>;
    expect(rejected.ventilation).toMatch(/one of off, low, high/);
    expect(rejected.lighting).toMatch(/does not drive lighting/);
    expect(actuators.state().ventilation).toBe('off');
  });

  it('delivers every reading taken during a broker outage, in order, after reconnect', async () => {
    dir = mkdtempSync(join(tmpdir(), 'agent-'));
    broker = await createTestBroker(pki);
    const bundle = await testBundle(pki, broker.port, { drives: [] });
    agent = await runAgent(bundle, {
      dataDir: dir,
      sensors: [steppedSensor()],
      policy: { sampleIntervalMs: 3_600_000, batchSize: 2 },
      link: fast,
      ...manual,
    });
    await waitFor(() => agent!.stats().online, 10_000, 'connect');
    for (let i = 0; i < 4; i++) await agent.sample();
    await waitFor(() => readingsOf(broker!, bundle.topics.telemetry).length >= 4, 10_000, 'before outage');
    await broker.stop();
    await waitFor(() => !agent!.stats().online, 10_000, 'offline');
    for (let i = 0; i < 10; i++) await agent.sample();
    expect(agent.stats().pending).toBe(10);
    await broker.start();
    await waitFor(() => agent!.stats().pending === 0, 15_000, 'replay').catch((e) => {
      console.log(lines.join('\n'), agent!.stats());
      throw e;
    });
    const seqs = [...new Set(readingsOf(broker, bundle.topics.telemetry).map((r) => r.seq))];
    expect(seqs).toEqual(Array.from({ length: 14 }, (_, i) => i));
  });

  it('says plainly when the broker refuses the connection', async () => {
    dir = mkdtempSync(join(tmpdir(), 'agent-'));
    broker = await createTestBroker(pki);
    const bundle = await testBundle(pki, broker.port, { drives: [] });
    broker.refused.add(bundle.clientId);
    agent = await runAgent(bundle, { dataDir: dir, sensors: [], link: fast, ...manual });
    await waitFor(() => lines.some((l) => l.includes('refused')), 10_000, 'refusal line');
    expect(lines.find((l) => l.includes('refused'))).toMatch(
      new RegExp(`broker refused the connection.*certificate is ACTIVE.*client id ${bundle.clientId}`),
    );
  });

  it('says plainly when nothing listens at the endpoint', async () => {
    dir = mkdtempSync(join(tmpdir(), 'agent-'));
    broker = await createTestBroker(pki);
    const port = broker.port;
    await broker.close();
    broker = undefined;
    const bundle = await testBundle(pki, port, { drives: [] });
    agent = await runAgent(bundle, { dataDir: dir, sensors: [], link: fast, ...manual });
    await waitFor(() => lines.some((l) => l.includes('connection refused')), 10_000, 'refused line');
  });
});

describe('agent fallback', () => {
  it('keeps the zone safe while the cloud is away and reports fallback once back', async () => {
    dir = mkdtempSync(join(tmpdir(), 'agent-'));
    broker = await createTestBroker(pki);
    const bundle = await testBundle(pki, broker.port, { senses: ['temperature'], drives: ['heating'] });
    const cold = {
      kinds: ['temperature'] as const,
      temperature: 20,
      read: async () => ({ temperature: cold.temperature }),
    };
    const actuators = simulatedActuators(bundle.drives);
    agent = await runAgent(bundle, {
      dataDir: dir,
      sensors: [cold],
      actuators: [actuators],
      policy: { sampleIntervalMs: 3_600_000 },
      fallback: { afterMs: 50 },
      link: fast,
      ...manual,
    });
    const key = `${bundle.thing}/${COMMAND_SHADOW_NAME}`;
    await waitFor(() => broker!.shadows.get(key)?.reported.mode === 'cloud', 10_000, 'first report');
    await broker.stop();
    await waitFor(() => !agent!.stats().online, 10_000, 'offline');
    await new Promise((r) => setTimeout(r, 100));
    cold.temperature = 12;
    await agent.sample();
    expect(agent.stats().mode).toBe('fallback');
    expect(actuators.state().heating).toBe('on');
    const reportsBefore = broker.published.length;
    await broker.start();
    await waitFor(() => agent!.stats().online && agent!.stats().mode === 'cloud', 15_000, 'hand back');
    await waitFor(
      () =>
        broker!.published
          .slice(reportsBefore)
          .some(
            (m) => m.topic.endsWith('/update') && JSON.parse(m.payload).state?.reported?.mode === 'fallback',
          ),
      10_000,
      'fallback report',
    );
  });
});

describe('agent process', () => {
  it('exits 0 on SIGTERM after flushing and disconnecting', async () => {
    dir = mkdtempSync(join(tmpdir(), 'agent-'));
    broker = await createTestBroker(pki);
    const bundle = await testBundle(pki, broker.port, { drives: [] });
    const bundlePath = join(dir, 'bundle.json');
    writeFileSync(bundlePath, JSON.stringify(bundle), { mode: 0o600 });
    const child = spawn(process.execPath, ['--import', 'tsx', 'device/main.ts', '--bundle', bundlePath], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    try {
      await waitFor(() => stderr.includes('connected to'), 15_000, 'agent connect');
      await waitFor(
        () => broker!.published.some((m) => m.topic === bundle.topics.telemetry),
        10_000,
        'first reading',
      );
      const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      const code = await Promise.race([exit, new Promise((r) => setTimeout(() => r('timeout'), 10_000))]);
      expect(code).toBe(0);
      expect(stderr).toMatch(/stopped: \d+ messages published/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
