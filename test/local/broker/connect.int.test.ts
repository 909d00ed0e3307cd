import tls from 'node:tls';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectPacket } from '../../../bench/chaos/raw-mqtt';
import { presenceTopic, telemetryTopic } from '../../../contracts';
import type { BrokerMessage } from '../../../local/broker';
import { allowAllPolicy } from '../../helpers/device-policy';
import { type LocalIot, startLocalIot } from '../../helpers/local-iot';
import { connectDevice, disconnectAll } from '../../helpers/mqtt-device';

/** How long the broker may take to deliver, log or disconnect. */
const POLL = { timeout: 5_000 };

const address = { building: 'hq', zone: 'lobby', thing: 'lobby-t1' };
const attributes = { building: address.building, zone: address.zone, kind: 'sensor' };

describe('broker: connecting devices', () => {
  let env: LocalIot;
  beforeEach(async () => {
    env = await startLocalIot();
  });
  afterEach(async () => {
    await disconnectAll();
    await env.close();
  });

  const connect = (d: { certFile: string; keyFile: string }, clientId: string) =>
    connectDevice({
      port: env.broker.port,
      caFile: env.caFile,
      certFile: d.certFile,
      keyFile: d.keyFile,
      clientId,
    });

  it('lets a device publish its own readings, which a subscriber and the bus receive', async () => {
    const device = await env.issueDevice(address.thing, { attributes });
    const operator = await env.issueDevice('operator', { policy: allowAllPolicy });
    const seen: BrokerMessage[] = [];
    env.broker.subscribe('dt/zonectl/+/+/+/readings', (m) => {
      seen.push(m);
    });
    const app = await connect(operator, 'operator');
    await app.subscribe('dt/zonectl/#');
    const sensor = await connect(device, address.thing);
    const arrived = app.next(telemetryTopic(address));
    await sensor.publish(telemetryTopic(address), { t: 21.5 });
    expect(JSON.parse((await arrived).payload)).toEqual({ t: 21.5 });
    await expect.poll(() => seen.length, POLL).toBe(1);
    expect(seen[0]).toMatchObject({
      topic: telemetryTopic(address),
      clientId: address.thing,
      principal: device.certificateId,
      thingName: address.thing,
    });
  });

  it('publishes a connected lifecycle event with the AWS payload shape', async () => {
    const device = await env.issueDevice(address.thing, { attributes });
    const events: BrokerMessage[] = [];
    env.broker.subscribe('$aws/events/presence/+/+', (m) => {
      events.push(m);
    });
    const sensor = await connect(device, address.thing);
    await sensor.disconnect();
    await expect.poll(() => events.length, POLL).toBe(2);
    expect(events[0]?.topic).toBe(presenceTopic('connected', address.thing));
    expect(JSON.parse(events[0]!.payload.toString())).toMatchObject({
      clientId: address.thing,
      eventType: 'connected',
      principalIdentifier: device.certificateId,
      versionNumber: 1,
    });
    const disconnected = JSON.parse(events[1]!.payload.toString());
    expect(disconnected).toMatchObject({
      clientId: address.thing,
      eventType: 'disconnected',
      clientInitiatedDisconnect: true,
      disconnectReason: 'CLIENT_INITIATED_DISCONNECT',
    });
    expect(typeof disconnected.timestamp).toBe('number');
    expect(typeof disconnected.sessionIdentifier).toBe('string');
  });

  it('answers a client offering its last TLS session with a full handshake and checks the certificate again', async () => {
    const device = await env.issueDevice(address.thing, { attributes });
    /** One raw TLS 1.2 or 1.3 connect: whether the session was resumed, the CONNACK code, the session. */
    const rawConnect = (maxVersion: tls.SecureVersion, session?: Buffer) =>
      new Promise<{ reused: boolean; code?: number; session?: Buffer }>((resolve) => {
        let reused = false;
        let code: number | undefined;
        let last = session;
        const socket = tls.connect(
          {
            host: '127.0.0.1',
            port: env.broker.port,
            ca: env.ca.caPem,
            servername: 'localhost',
            cert: device.certPem,
            key: device.keyPem,
            maxVersion,
            ...(session ? { session } : {}),
          },
          () => {
            reused = socket.isSessionReused();
            socket.write(connectPacket(address.thing));
          },
        );
        socket.on('session', (s: Buffer) => {
          last = s;
        });
        socket.on('data', (d: Buffer) => {
          if (d[0] === 0x20) code = d[3];
          socket.end(Buffer.from([0xe0, 0x00]));
        });
        socket.on('error', () => {});
        socket.on('close', () => resolve({ reused, ...(code !== undefined ? { code } : {}), session: last }));
      });
    for (const version of ['TLSv1.3', 'TLSv1.2'] as const) {
      env.directory.setCertificateStatus(device.certificateId, 'ACTIVE');
      const first = await rawConnect(version);
      expect(first.code).toBe(0);
      expect(first.session).toBeDefined();
      env.directory.setCertificateStatus(device.certificateId, 'INACTIVE');
      const again = await rawConnect(version, first.session);
      expect(again.reused).toBe(false);
      expect(again.code).toBe(5);
    }
    expect(env.logLines('denied iot:Connect', 'certificate is INACTIVE')).toHaveLength(2);
  });
});
