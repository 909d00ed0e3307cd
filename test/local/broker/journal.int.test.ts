import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { BrokerMessage } from '../../../local/broker';
import { provesAbsenceFor } from '../../helpers/absence';
import { allowAllPolicy } from '../../helpers/device-policy';
import { type DeviceIdentity, type LocalIot, startLocalIot } from '../../helpers/local-iot';
import { connectDevice, disconnectAll } from '../../helpers/mqtt-device';

/** A durable observer whose promises the test resolves. */
function heldObserver() {
  const seen: BrokerMessage[] = [];
  const releases: Array<() => void> = [];
  return {
    seen,
    handler: (m: BrokerMessage) => {
      seen.push(m);
      return new Promise<void>((resolve) => releases.push(resolve));
    },
    releaseAll: () => {
      for (const r of releases.splice(0)) r();
    },
  };
}

describe('broker: the inbound journal', () => {
  let env: LocalIot;
  afterEach(async () => {
    await disconnectAll();
    await env.close();
  });

  const connect = (id: DeviceIdentity, cleanSession = true) =>
    connectDevice({
      port: env.broker.port,
      caFile: env.caFile,
      certFile: id.certFile,
      keyFile: id.keyFile,
      clientId: id.thingName,
      cleanSession,
    });
  const device = async (clientId: string) =>
    connect(await env.issueDevice(clientId, { policy: allowAllPolicy }));
  const journalText = () => readFileSync(join(env.stateDir, 'broker', 'inbound.journal'), 'utf8');
  const b64 = (text: string) => Buffer.from(text).toString('base64');

  it('has a QoS 1 message on disk before its PUBACK, and hands it over again after a restart until it is handled', async () => {
    env = await startLocalIot();
    const observer = heldObserver();
    env.broker.subscribe('plant/#', observer.handler);
    const sensor = await device('sensor-1');
    await sensor.publish('plant/boiler/pressure', { bar: 1.8 }, 1);
    // The PUBACK came back: the message must already be in the journal file.
    expect(journalText()).toContain(Buffer.from(JSON.stringify({ bar: 1.8 })).toString('base64'));
    await expect.poll(() => observer.seen.length).toBe(1);
    expect(env.broker.pendingMessages()).toBe(1);

    await disconnectAll();
    await env.restartBroker({ open: false });
    const again = heldObserver();
    env.broker.subscribe('plant/#', again.handler);
    expect(env.broker.open()).toBe(1);
    await expect.poll(() => again.seen.length).toBe(1);
    expect(again.seen[0]).toMatchObject({
      topic: 'plant/boiler/pressure',
      clientId: 'sensor-1',
      receivedAt: observer.seen[0]!.receivedAt,
    });
    again.releaseAll();
    await expect.poll(() => env.broker.pendingMessages()).toBe(0);

    await env.restartBroker({ open: false });
    expect(env.broker.open()).toBe(0);
  });

  it('does not journal QoS 0 messages', async () => {
    env = await startLocalIot();
    const observer = heldObserver();
    env.broker.subscribe('plant/#', observer.handler);
    const sensor = await device('sensor-2');
    await sensor.publish('plant/boiler/flame', 'on', 0);
    await expect.poll(() => observer.seen.length).toBe(1);
    expect(env.broker.pendingMessages()).toBe(0);
  });

  it('journals only QoS 1 messages a crash could take from someone: acted on by a service, queued for a persistent session, or retained', async () => {
    env = await startLocalIot();
    const observer = heldObserver();
    env.broker.subscribe('plant/#', observer.handler);
    // sees chat/# but acts only on chat/alarm (as the rules engine answers with its rules' topics)
    const picky = heldObserver();
    env.broker.subscribe('chat/#', picky.handler, { actsOn: (t) => t === 'chat/alarm' });
    const listener = await device('listener');
    await listener.subscribe('chat/#');
    const sensor = await device('sensor-j');

    await sensor.publish('chat/hello', 'to connected clean sessions only', 1);
    expect((await listener.next('chat/hello')).payload).toBe('to connected clean sessions only');
    await sensor.publish('chat/alarm', 'acted on', 1);
    await sensor.publish('plant/boiler', 'observed', 1);
    await sensor.publish('chat/sticky', 'retained', 1, true);
    let text = journalText();
    expect(text).not.toContain(b64('to connected clean sessions only'));
    for (const kept of ['acted on', 'observed', 'retained']) expect(text, kept).toContain(b64(kept));
    // every observer still sees every message its filter matches
    await expect
      .poll(() => picky.seen.map((m) => m.topic))
      .toEqual(['chat/hello', 'chat/alarm', 'chat/sticky']);

    // a persistent session subscribed to chat/queued: a message on it may wait in its queue
    const keeper = await connect(await env.issueDevice('keeper', { policy: allowAllPolicy }), false);
    await keeper.subscribe('chat/queued');
    await sensor.publish('chat/queued', 'for a persistent session', 1);
    expect(journalText()).toContain(b64('for a persistent session'));
    // once it unsubscribes, the topic is back to connected clean sessions only
    await keeper.connection.unsubscribe('chat/queued');
    await sensor.publish('chat/queued', 'after the unsubscribe', 1);
    text = journalText();
    expect(text).not.toContain(b64('after the unsubscribe'));
    // a service's publish follows the same rule
    await env.broker.publish({ topic: 'chat/service', payload: 'from a service to clean sessions', qos: 1 });
    expect(journalText()).not.toContain(b64('from a service to clean sessions'));
    observer.releaseAll();
    picky.releaseAll();

    // the persistent session's subscriptions count after a restart too, while it is offline
    await keeper.subscribe('chat/later');
    await disconnectAll();
    await env.restartBroker();
    await env.broker.publish({ topic: 'chat/later', payload: 'for the offline session', qos: 1 });
    expect(journalText()).toContain(b64('for the offline session'));
  });

  it('holds PUBACKs while the services have maxPendingMessages messages waiting, and sends them once they catch up', async () => {
    env = await startLocalIot(undefined, { maxPendingMessages: 2 });
    const observer = heldObserver();
    env.broker.subscribe('plant/#', observer.handler);
    const sensor = await device('sensor-3');
    await sensor.publish('plant/a', '1', 1);
    await sensor.publish('plant/b', '2', 1);
    let third = false;
    const pending = sensor.publish('plant/c', '3', 1).then(() => {
      third = true;
    });
    await provesAbsenceFor(300, 'the PUBACK of the third message while two wait');
    expect(third).toBe(false);
    observer.releaseAll();
    await pending;
    expect(third).toBe(true);
    await expect.poll(() => observer.seen.map((m) => m.topic)).toEqual(['plant/a', 'plant/b', 'plant/c']);
  });

  it('journals a QoS 1 publish of a service before publish() resolves', async () => {
    env = await startLocalIot();
    const observer = heldObserver();
    env.broker.subscribe('svc/#', observer.handler);
    await env.broker.publish({ topic: 'svc/out', payload: 'from a service', qos: 1 });
    expect(journalText()).toContain(Buffer.from('from a service').toString('base64'));
    observer.releaseAll();
    await expect.poll(() => env.broker.pendingMessages()).toBe(0);
  });

  /** A broker, an observer of svc/#, and a service publish on svc/held journaled and held. */
  const startWithHeldPublish = async () => {
    env = await startLocalIot();
    const observer = heldObserver();
    env.broker.subscribe('svc/#', observer.handler);
    let release!: (publish: boolean) => void;
    const until = new Promise<boolean>((resolve) => {
      release = resolve;
    });
    const held = env.broker.publish({ topic: 'svc/held', payload: 'held', qos: 1 }, { until });
    await expect.poll(() => journalText()).toContain(b64('held'));
    return { observer, held, release };
  };

  it('journals a service publish given `until` at once, and publishes it only when released; a withdrawn one no one sees', async () => {
    const { observer, held, release } = await startWithHeldPublish();
    await provesAbsenceFor(200, 'a held message reaching an observer');
    expect(observer.seen).toHaveLength(0);
    release(true);
    await held;
    await expect.poll(() => observer.seen.map((m) => m.topic)).toEqual(['svc/held']);

    await env.broker.publish(
      { topic: 'svc/withdrawn', payload: 'no', qos: 1 },
      { until: Promise.resolve(false) },
    );
    await env.broker.publish(
      { topic: 'svc/failed', payload: 'no', qos: 1 },
      { until: Promise.reject(new Error('the write failed')) },
    );
    await provesAbsenceFor(200, 'a withdrawn message reaching an observer');
    expect(observer.seen.map((m) => m.topic)).toEqual(['svc/held']);
    observer.releaseAll();
    await expect.poll(() => env.broker.pendingMessages()).toBe(0);
  });

  it('leaves a held message out of what a clean stop hands over, for its publisher to release or withdraw', async () => {
    const { observer, held, release } = await startWithHeldPublish();
    await env.broker.stopAccepting();
    await provesAbsenceFor(200, 'a held message handed over by the stop');
    expect(observer.seen).toHaveLength(0);
    release(false);
    await held;
    expect(env.broker.pendingMessages()).toBe(0);
  });

  it('hands a journaled message over after a restart only when the replay guard of its topic keeps it', async () => {
    env = await startLocalIot();
    const observer = heldObserver();
    env.broker.subscribe('#', observer.handler);
    await env.broker.publish({ topic: 'svc/a', payload: 'keep', qos: 1 });
    await env.broker.publish({ topic: 'svc/b', payload: 'drop', qos: 1 });
    await env.broker.publish({ topic: 'other/c', payload: 'drop', qos: 1 });
    await expect.poll(() => observer.seen.length).toBe(3);

    await env.restartBroker({ open: false });
    const again = heldObserver();
    env.broker.subscribe('#', again.handler);
    env.broker.guardReplay('svc/#', (m) => m.payload.toString() === 'keep');
    // other/c matches no guard: handed over whatever its payload
    expect(env.broker.open()).toBe(2);
    await expect.poll(() => again.seen.map((m) => m.topic).sort()).toEqual(['other/c', 'svc/a']);
    again.releaseAll();
    await expect.poll(() => env.broker.pendingMessages()).toBe(0);

    // the dropped one was marked done: nothing is left for the next start
    await env.restartBroker({ open: false });
    expect(env.broker.open()).toBe(0);
  });

  it('serves a device that connects while the services start only once it is opened, so its publish reaches them', async () => {
    env = await startLocalIot();
    const id = await env.issueDevice('early-sensor', { policy: allowAllPolicy });
    await env.restartBroker({ open: false });
    // The device reconnects before the services subscribed: its CONNECT waits unread.
    const connecting = connect(id);
    let connected = false;
    void connecting.then(() => (connected = true));
    await provesAbsenceFor(500, 'a CONNACK before the broker is opened');
    expect(connected).toBe(false);
    expect(env.broker.connectedClients()).toEqual([]);

    const observer = heldObserver();
    env.broker.subscribe('plant/#', observer.handler);
    expect(env.broker.open()).toBe(0);
    const sensor = await connecting;
    await sensor.publish('plant/boiler/pressure', { bar: 1.9 }, 1);
    await expect.poll(() => observer.seen.map((m) => m.clientId)).toEqual(['early-sensor']);
    observer.releaseAll();
    await expect.poll(() => env.broker.pendingMessages()).toBe(0);
  });

  it('keeps a held message released only after the broker closed in the journal, for the next start', async () => {
    const { held, release } = await startWithHeldPublish();
    await env.restartBroker({ open: false });
    release(true);
    await held;
    const again = heldObserver();
    env.broker.subscribe('svc/#', again.handler);
    expect(env.broker.open()).toBe(1);
    await expect.poll(() => again.seen.map((m) => m.topic)).toEqual(['svc/held']);
    again.releaseAll();
    await expect.poll(() => env.broker.pendingMessages()).toBe(0);
  });
});
