import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { provesAbsenceFor } from '../../helpers/absence';
import { allowAllPolicy } from '../../helpers/device-policy';
import { type LocalIot, startLocalIot } from '../../helpers/local-iot';
import { connectDevice, disconnectAll } from '../../helpers/mqtt-device';

describe('broker: state across a restart', () => {
  let env: LocalIot;
  beforeEach(async () => {
    env = await startLocalIot();
  });
  afterEach(async () => {
    await disconnectAll();
    await env.close();
  });

  const connect = async (clientId: string, cleanSession = true) => {
    const id = await env.issueDevice(clientId, { policy: allowAllPolicy });
    return (cleanSession2 = cleanSession) =>
      connectDevice({
        port: env.broker.port,
        caFile: env.caFile,
        certFile: id.certFile,
        keyFile: id.keyFile,
        clientId,
        cleanSession: cleanSession2,
      });
  };

  it('keeps a retained message across a broker restart', async () => {
    const publisherAt = await connect('publisher');
    const publisher = await publisherAt();
    await publisher.publish('site/hq/status', 'open', 1, true);
    await publisher.disconnect();
    await env.restartBroker();

    const subscriber = await (await connect('subscriber'))();
    const arrived = subscriber.next('site/hq/status');
    await subscriber.subscribe('site/hq/#');
    const message = await arrived;
    expect(message).toMatchObject({ payload: 'open', retain: true });
  });

  it('delivers QoS 1 messages queued for a persistent session after a broker restart', async () => {
    const listenerAt = await connect('listener');
    const first = await listenerAt(false);
    await first.subscribe('alerts/#', 1);
    await first.disconnect();

    const sender = await (await connect('sender'))();
    await sender.publish('alerts/fire', 'evacuate', 1);
    await sender.disconnect();
    await env.restartBroker();

    const again = await listenerAt(false);
    const message = await again.next('alerts/fire');
    expect(message.payload).toBe('evacuate');
  });

  it('forgets a persistent session when the client reconnects with a clean session', async () => {
    const listenerAt = await connect('listener');
    const first = await listenerAt(false);
    await first.subscribe('alerts/#', 1);
    await first.disconnect();
    const clean = await listenerAt(true);
    await clean.disconnect();

    const sender = await (await connect('sender'))();
    await sender.publish('alerts/fire', 'evacuate', 1);
    const again = await listenerAt(false);
    await provesAbsenceFor(300, "the forgotten session's queued message");
    expect(again.received).toEqual([]);
  });
});
