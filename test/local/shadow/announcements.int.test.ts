import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { BrokerMessage } from '../../../local/broker';
import { createShadowService, type ShadowService } from '../../../local/shadow';
import { type LocalIot, startLocalIot } from '../../helpers/local-iot';

/**
 * An update's announcements (update/accepted, /delta, /documents) are journaled by the broker
 * while the change is written, and published once it is on disk. What these pin: after a crash,
 * those of a change that reached the disk are handed over again, those of a change that did not
 * are dropped, so no device hears of a version the shadow never had.
 */
const thingName = 'lobby-h1';

/** A durable observer that never finishes: what it sees stays in the broker's journal. */
function holdingObserver() {
  const seen: BrokerMessage[] = [];
  const handler = (m: BrokerMessage) => {
    seen.push(m);
    return new Promise<void>(() => {});
  };
  return { seen, handler };
}

describe('shadow announcements across a crash', () => {
  let env: LocalIot;
  let service: ShadowService | undefined;
  afterEach(async () => {
    await service?.close();
    await env.close();
  });

  const start = async () => {
    service = await createShadowService({
      bus: env.broker,
      directory: env.directory,
      stateDir: env.stateDir,
      logger: env.logger,
    });
    return service;
  };

  it('hands over the announcements of a stored change, and drops those of a change the disk never got', async () => {
    env = await startLocalIot();
    env.directory.addThing(thingName, {});
    const before = holdingObserver();
    env.broker.subscribe('$aws/things/+/shadow/#', before.handler);
    const shadows = await start();
    await shadows.api.update(thingName, undefined, { state: { reported: { temperature: 20 } } });
    // The shadow files as they were on disk once version 1 was answered.
    const shadowDir = join(env.stateDir, 'shadow');
    const version1 = `${shadowDir}.version-1`;
    cpSync(shadowDir, version1, { recursive: true });
    await shadows.api.update(thingName, undefined, { state: { reported: { temperature: 21 } } });
    await expect.poll(() => before.seen.length).toBe(4); // accepted and documents, twice
    await shadows.close();
    service = undefined;

    // The crash took version 2's change but not its announcements, which were journaled.
    rmSync(shadowDir, { recursive: true, force: true });
    cpSync(version1, shadowDir, { recursive: true });
    await env.restartBroker({ open: false });
    const after = holdingObserver();
    env.broker.subscribe('$aws/things/+/shadow/#', after.handler);
    const restarted = await start();
    expect(env.broker.open()).toBe(2);
    await expect.poll(() => after.seen.length).toBe(2);
    const versions = after.seen.map((m) => {
      const doc = JSON.parse(m.payload.toString('utf8')) as {
        version?: number;
        current?: { version: number };
      };
      return [m.topic.split('/').slice(-2).join('/'), doc.version ?? doc.current?.version];
    });
    expect(versions).toEqual([
      ['update/accepted', 1],
      ['update/documents', 1],
    ]);
    expect(restarted.api.get(thingName)).toMatchObject({
      version: 1,
      state: { reported: { temperature: 20 } },
    });
  });
});
