/** The demo's settler: settles when the pipeline is idle, and a stopping demo's budget ends any wait. */
import { describe, expect, it } from 'vitest';
import { createCommandBook } from '../../demo/commands';
import { createSettler, type SettlerOptions, waitUntil } from '../../demo/settle';
import type { MessageBus } from '../../local/broker/types';
import type { LocalLogger } from '../../local/common/log';

const quiet: LocalLogger = { info: () => {}, warn: () => {}, error: () => {}, child: () => quiet };

/** A cloud whose rules engine is busy until `release()` and whose control queue holds `pending` events. */
function fakeCloud(o: { rulesStuck?: boolean; pending?: number } = {}) {
  let release = () => {};
  const stuck = new Promise<void>((r) => {
    release = r;
  });
  const broker = { subscribe: () => () => {} } as unknown as MessageBus;
  const cloud = {
    broker,
    rules: { drain: () => (o.rulesStuck ? stuck : Promise.resolve()) },
    lambda: { drainAsync: () => Promise.resolve() },
    sqs: { counts: () => ({ visible: o.pending ?? 0, inFlight: 0, delayed: 0 }) },
  } as unknown as SettlerOptions['cloud'];
  return { cloud, broker, release: () => release() };
}

function settlerOn(cloud: ReturnType<typeof fakeCloud>, timeoutMs = 30_000) {
  const warnings: string[] = [];
  const logger = { ...quiet, warn: (m: string) => warnings.push(m) };
  const settler = createSettler({
    cloud: cloud.cloud,
    buildingId: 'hq',
    controlQueueUrl: 'http://127.0.0.1/000000000000/control',
    agents: () => [],
    commands: createCommandBook(cloud.broker),
    logger,
    timeoutMs,
  });
  return { settler, warnings };
}

describe('createSettler', () => {
  it('settles at once when nothing is on its way', async () => {
    const { settler } = settlerOn(fakeCloud());
    expect(await settler.settle()).toBe(true);
    expect(settler.timeouts).toBe(0);
    expect(settler.waitingFor()).toBeUndefined();
  });

  it('gives up after its timeout on a rules engine that never drains, and says what it waited for', async () => {
    const cloud = fakeCloud({ rulesStuck: true });
    const { settler, warnings } = settlerOn(cloud, 50);
    expect(await settler.settle()).toBe(false);
    expect(settler.timeouts).toBe(1);
    expect(warnings.join('\n')).toMatch(/did not settle within 0.05 s \(waiting for the rules engine\)/);
    cloud.release();
  });

  it('hurry() ends a settle under way, and every later one, by its deadline', async () => {
    const cloud = fakeCloud({ pending: 1 });
    const { settler, warnings } = settlerOn(cloud);
    const started = Date.now();
    const settling = settler.settle();
    await new Promise((r) => setTimeout(r, 20));
    expect(settler.waitingFor()).toBe('the zone controller');
    settler.hurry(Date.now() + 30);
    expect(await settling).toBe(false);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(warnings.join('\n')).toMatch(/stopping: gave up waiting for the zone controller/);
    expect(await settler.settle()).toBe(false);
    expect(settler.timeouts).toBe(2);
  });
});

describe('waitUntil', () => {
  it('returns when the work ends, or at the deadline, and never throws the work’s error', async () => {
    await waitUntil(Promise.reject(new Error('boom')), Date.now() + 1_000);
    const started = Date.now();
    await waitUntil(new Promise(() => {}), Date.now() + 30);
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
  });
});
