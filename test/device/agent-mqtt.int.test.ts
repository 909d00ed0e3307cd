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
import { testBundle } from './support/bundle';

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
    await expect.poll(() => agent!.stats().online, { timeout: 10_000, message: 'connect' }).toBe(true);
    for (let i = 0; i < 6; i++) await agent.sample();
    await expect.poll(() => agent!.stats().pending === 0, { timeout: 10_000, message: 'acks' }).toBe(true);
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
    await expect
      .poll(() => broker!.shadows.get(key)?.reported.mode === 'cloud', {
        timeout: 10_000,
        message: 'first report',
      })
      .toBe(true);
    broker.setDesired(bundle.thing, COMMAND_SHADOW_NAME, { heating: 'on', ventilation: 'high' });
    await expect
      .poll(() => broker!.shadows.get(key)?.reported.heating === 'on', {
        timeout: 10_000,
        message: 'heating reported',
      })
      .toBe(true);
    expect(actuators.state()).toEqual({ heating: 'on', ventilation: 'high' });
    const shadow = broker.shadows.get(key)!;
    expect(shadow.reported).toMatchObject({ heating: 'on', ventilation: 'high', mode: 'cloud' });
    const update = broker.published
      .filter((m) => m.topic.endsWith(`/name/${COMMAND_SHADOW_NAME}/update`))
      .at(-1)!;
    expect(JSON.parse(update.payload).clientToken).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('takes shadow deltas at QoS 0 and the other shadow responses at QoS 1', async () => {
    dir = mkdtempSync(join(tmpdir(), 'agent-'));
    broker = await createTestBroker(pki);
    const bundle = await testBundle(pki, broker.port, { senses: [] });
    agent = await runAgent(bundle, { dataDir: dir, sensors: [], link: fast, ...manual });
    await expect.poll(() => agent!.stats().online, { timeout: 10_000, message: 'connect' }).toBe(true);
    const prefix = `$aws/things/${bundle.thing}/shadow/name/${COMMAND_SHADOW_NAME}`;
    await expect
      .poll(() => broker!.subscriptions.filter((s) => s.clientId === bundle.clientId).length)
      .toBeGreaterThanOrEqual(4);
    const qos = Object.fromEntries(broker.subscriptions.map((s) => [s.topic, s.qos]));
    expect(qos).toMatchObject({
      [`${prefix}/update/delta`]: 0,
      [`${prefix}/get/accepted`]: 1,
      [`${prefix}/get/rejected`]: 1,
      [`${prefix}/update/rejected`]: 1,
    });
  });

  it('applies a desired change made while it was offline, from the shadow it gets on reconnect', async () => {
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
    await expect
      .poll(() => broker!.shadows.get(key)?.reported.mode === 'cloud', { timeout: 10_000 })
      .toBe(true);
    await broker.stop();
    await expect.poll(() => agent!.stats().online, { timeout: 10_000, message: 'offline' }).toBe(false);
    // the delta of this change is published to nobody: the agent is not connected
    broker.shadows.get(key)!.desired.heating = 'on';
    await broker.start();
    await expect
      .poll(() => broker!.shadows.get(key)?.reported.heating, {
        timeout: 15_000,
        message: 'heating reported',
      })
      .toBe('on');
    expect(actuators.state()).toMatchObject({ heating: 'on' });
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
    await expect
      .poll(() => broker!.shadows.get(key)?.reported.mode === 'cloud', {
        timeout: 10_000,
        message: 'first report',
      })
      .toBe(true);
    broker.setDesired(bundle.thing, COMMAND_SHADOW_NAME, { ventilation: 'turbo', lighting: 50 });
    await expect
      .poll(() => broker!.shadows.get(key)?.reported.rejected !== undefined, {
        timeout: 10_000,
        message: 'rejection',
      })
      .toBe(true);
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
    await expect.poll(() => agent!.stats().online, { timeout: 10_000, message: 'connect' }).toBe(true);
    for (let i = 0; i < 4; i++) await agent.sample();
    await expect
      .poll(() => readingsOf(broker!, bundle.topics.telemetry).length >= 4, {
        timeout: 10_000,
        message: 'before outage',
      })
      .toBe(true);
    await broker.stop();
    await expect.poll(() => !agent!.stats().online, { timeout: 10_000, message: 'offline' }).toBe(true);
    for (let i = 0; i < 10; i++) await agent.sample();
    expect(agent.stats().pending).toBe(10);
    await broker.start();
    await expect
      .poll(() => agent!.stats().pending, { timeout: 15_000, message: 'replay' })
      .toBe(0)
      .catch((e) => {
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
    await expect
      .poll(() => lines.some((l) => l.includes('refused')), { timeout: 10_000, message: 'refusal line' })
      .toBe(true);
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
    await expect
      .poll(() => lines.some((l) => l.includes('connection refused')), {
        timeout: 10_000,
        message: 'refused line',
      })
      .toBe(true);
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
    await expect
      .poll(() => broker!.shadows.get(key)?.reported.mode === 'cloud', {
        timeout: 10_000,
        message: 'first report',
      })
      .toBe(true);
    await broker.stop();
    await expect.poll(() => !agent!.stats().online, { timeout: 10_000, message: 'offline' }).toBe(true);
    // Let the outage outlast fallback.afterMs (50 ms), so the next sample is taken in fallback.
    await new Promise((r) => setTimeout(r, 100));
    cold.temperature = 12;
    await agent.sample();
    expect(agent.stats().mode).toBe('fallback');
    expect(actuators.state().heating).toBe('on');
    const reportsBefore = broker.published.length;
    await broker.start();
    await expect
      .poll(() => agent!.stats().online && agent!.stats().mode === 'cloud', {
        timeout: 15_000,
        message: 'hand back',
      })
      .toBe(true);
    await expect
      .poll(
        () =>
          broker!.published
            .slice(reportsBefore)
            .some(
              (m) =>
                m.topic.endsWith('/update') && JSON.parse(m.payload).state?.reported?.mode === 'fallback',
            ),
        { timeout: 10_000, message: 'fallback report' },
      )
      .toBe(true);
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
      await expect
        .poll(() => stderr.includes('connected to'), { timeout: 15_000, message: 'agent connect' })
        .toBe(true);
      await expect
        .poll(() => broker!.published.some((m) => m.topic === bundle.topics.telemetry), {
          timeout: 10_000,
          message: 'first reading',
        })
        .toBe(true);
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
