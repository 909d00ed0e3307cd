import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { mqtt } from 'aws-iot-device-sdk-v2';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectPacket, publishPacket, remainingLength } from '../../../bench/chaos/raw-mqtt';
import { COMMAND_SHADOW_NAME, shadowTopicPrefix, telemetryTopic } from '../../../contracts';
import { createCaService } from '../../../local/ca';
import { silentLogger } from '../../../local/common/log';
import type { PolicyDocument } from '../../../local/iot/types';
import { allowAllPolicy } from '../../helpers/device-policy';
import { type LocalIot, startLocalIot } from '../../helpers/local-iot';
import { connectDevice, disconnectAll, type TestDevice } from '../../helpers/mqtt-device';

/** How long the broker may take to deliver, log or disconnect. */
const POLL = { timeout: 5_000 };

const hq = (zone: string, thing: string) => ({ building: 'hq', zone, thing });
const lobbyT1 = hq('lobby', 'lobby-t1');
const lobbyT2 = hq('lobby', 'lobby-t2');
const attrs = (a: { building: string; zone: string }) => ({
  building: a.building,
  zone: a.zone,
  kind: 'sensor',
});
const ARN = 'arn:aws:iot:us-east-1:000000000000';

describe('broker: refusals', () => {
  let env: LocalIot;
  beforeEach(async () => {
    env = await startLocalIot();
  });
  afterEach(async () => {
    await disconnectAll();
    await env.close();
  });

  const connect = (d: { certFile: string; keyFile: string }, clientId: string, cleanSession = true) =>
    connectDevice({
      port: env.broker.port,
      caFile: env.caFile,
      certFile: d.certFile,
      keyFile: d.keyFile,
      clientId,
      cleanSession,
    });

  /** Opens a raw TLS connection; resolves when the server closes it. */
  const rawTls = (options: tls.ConnectionOptions, send?: Buffer) =>
    new Promise<void>((resolve) => {
      const socket = tls.connect(
        { host: '127.0.0.1', port: env.broker.port, ca: env.ca.caPem, servername: 'localhost', ...options },
        () => {
          if (send) socket.write(send);
        },
      );
      socket.on('error', () => resolve());
      socket.on('close', () => resolve());
    });

  it('refuses a TLS connection without a client certificate and says why', async () => {
    await rawTls({});
    await expect
      .poll(() => env.logLines('refused TLS connection', 'no client certificate').length, POLL)
      .toBe(1);
  });

  it('refuses a certificate signed by another CA', async () => {
    const foreign = await createCaService({
      dir: mkdtempSync(join(tmpdir(), 'zonectl-foreign-ca-')),
      logger: silentLogger,
    });
    const issued = await foreign.createKeysAndCertificate();
    await rawTls({ cert: issued.certificatePem, key: issued.keyPair.PrivateKey });
    await expect
      .poll(() => env.logLines('refused TLS connection', 'not signed by the local CA').length, POLL)
      .toBe(1);
  });

  it('refuses a certificate that is not registered', async () => {
    const device = await env.issueDevice(lobbyT1.thing, { register: false });
    await expect(connect(device, lobbyT1.thing)).rejects.toThrow();
    expect(
      env.logLines('denied iot:Connect', `client '${lobbyT1.thing}'`, 'certificate is not registered'),
    ).toHaveLength(1);
  });

  it('refuses a client id that does not match the thing', async () => {
    const device = await env.issueDevice(lobbyT1.thing, { attributes: attrs(lobbyT1) });
    await expect(connect(device, 'someone-else')).rejects.toThrow();
    const lines = env.logLines('denied iot:Connect', `${ARN}:client/someone-else`, "client 'someone-else'");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/no statement in the attached policies/);
  });

  it('drops the live session of a revoked certificate and refuses its reconnect', async () => {
    const device = await env.issueDevice(lobbyT1.thing, { attributes: attrs(lobbyT1) });
    const sensor = await connect(device, lobbyT1.thing);
    env.directory.setCertificateStatus(device.certificateId, 'REVOKED');
    await sensor.interrupted;
    expect(
      env.logLines(`client '${lobbyT1.thing}'`, 'certificate is now REVOKED', 'live session closed'),
    ).toHaveLength(1);
    await expect(connect(device, lobbyT1.thing)).rejects.toThrow();
    expect(env.logLines('denied iot:Connect', 'certificate is REVOKED')).toHaveLength(1);
  });

  it('disconnects a device that publishes on another thing’s topic and logs client, action, resource and reason', async () => {
    const device = await env.issueDevice(lobbyT1.thing, { attributes: attrs(lobbyT1) });
    const sensor = await connect(device, lobbyT1.thing);
    sensor.publish(telemetryTopic(lobbyT2), { t: 1 }).catch(() => {});
    await sensor.interrupted;
    const lines = env.logLines(
      'denied iot:Publish',
      `${ARN}:topic/${telemetryTopic(lobbyT2)}`,
      `client '${lobbyT1.thing}'`,
      'client disconnected',
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/no statement in the attached policies/);
  });

  it('disconnects a device that subscribes outside its policy', async () => {
    const device = await env.issueDevice(lobbyT1.thing, { attributes: attrs(lobbyT1) });
    const sensor = await connect(device, lobbyT1.thing);
    sensor.subscribe('dt/zonectl/#').catch(() => {});
    await sensor.interrupted;
    expect(
      env.logLines('denied iot:Subscribe', `${ARN}:topicfilter/dt/zonectl/#`, `client '${lobbyT1.thing}'`),
    ).toHaveLength(1);
  });

  it('disconnects a device that asks for another thing’s shadow', async () => {
    const device = await env.issueDevice(lobbyT1.thing, { attributes: attrs(lobbyT1) });
    const sensor = await connect(device, lobbyT1.thing);
    const other = `${shadowTopicPrefix(lobbyT2.thing, COMMAND_SHADOW_NAME)}/get`;
    sensor.publish(other, '').catch(() => {});
    await sensor.interrupted;
    expect(env.logLines('denied iot:Publish', `${ARN}:topic/${other}`)).toHaveLength(1);
  });

  it('drops a delivery the subscriber may not receive, without disconnecting it', async () => {
    const policy: PolicyDocument = {
      Statement: [
        {
          Effect: 'Allow',
          Action: ['iot:Connect', 'iot:Subscribe', 'iot:Publish', 'iot:Receive'],
          Resource: '*',
        },
        { Effect: 'Deny', Action: 'iot:Receive', Resource: `${ARN}:topic/a/secret/*` },
      ],
    };
    const app = await connect(await env.issueDevice('app', { policy }), 'app');
    await app.subscribe('a/#');
    await app.publish('a/secret/x', 'hidden');
    await app.publish('a/open/x', 'visible');
    await app.next('a/open/x');
    expect(app.received.map((r) => r.topic)).toEqual(['a/open/x']);
    expect(
      env.logLines(
        'denied iot:Receive',
        `${ARN}:topic/a/secret/x`,
        'explicitly denied',
        'message not delivered',
      ),
    ).toHaveLength(1);
  });

  it('disconnects a client that publishes more than 128 KB', async () => {
    const app = await connect(await env.issueDevice('app', { policy: allowAllPolicy }), 'app');
    app.publish('big/payload', 'x'.repeat(128 * 1024 + 1)).catch(() => {});
    await app.interrupted;
    expect(env.logLines('denied iot:Publish', 'big/payload', 'the limit is 131072')).toHaveLength(1);
  });

  it('disconnects a client that publishes on a topic with more than 7 slashes', async () => {
    const app = await connect(await env.issueDevice('app', { policy: allowAllPolicy }), 'app');
    app.publish('a/b/c/d/e/f/g/h/i', 'x').catch(() => {});
    await app.interrupted;
    expect(env.logLines('denied iot:Publish', 'forward slashes')).toHaveLength(1);
  });

  it('disconnects a client that subscribes to Basic Ingest topics', async () => {
    const app = await connect(await env.issueDevice('app', { policy: allowAllPolicy }), 'app');
    app.subscribe('$aws/rules/ingest/#').catch(() => {});
    await app.interrupted;
    expect(env.logLines('denied iot:Subscribe', 'Basic Ingest')).toHaveLength(1);
  });

  it('disconnects a client that publishes at QoS 2', async () => {
    const app = await connect(await env.issueDevice('app', { policy: allowAllPolicy }), 'app');
    app.publish('a/b', 'x', mqtt.QoS.ExactlyOnce).catch(() => {});
    await app.interrupted;
    expect(env.logLines('denied iot:Publish', 'QoS 2 is not supported')).toHaveLength(1);
  });

  it('refuses a client id longer than 128 bytes of UTF-8 with CONNACK "identifier rejected"', async () => {
    const app = await env.issueDevice('app', { policy: allowAllPolicy });
    // 43 three-byte characters: 43 characters, 129 bytes.
    const err = await connect(app, '\u20ac'.repeat(43)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeDefined();
    expect(env.logLines('denied iot:Connect', 'client id is 129 bytes; the limit is 128')).toHaveLength(1);
    await connect(app, '\u20ac'.repeat(42) + 'ab'); // 128 bytes: allowed
  });

  it('disconnects a client that publishes on a topic that is not valid UTF-8', async () => {
    const app = await env.issueDevice('app', { policy: allowAllPolicy });
    void rawTls(
      { cert: app.certPem, key: app.keyPem },
      Buffer.concat([
        connectPacket('app'),
        publishPacket(Buffer.from([0x61, 0x2f, 0xff, 0xfe, 0x62]), 'x', 0),
      ]),
    );
    await expect.poll(() => env.logLines('denied iot:Publish', 'not valid UTF-8').length, POLL).toBe(1);
  });

  it('drops a connection that sends more than a CONNECT can hold before its CONNECT is handled', async () => {
    const app = await env.issueDevice('app', { policy: allowAllPolicy });
    // A CONNECT announcing 10 MB, followed by 300 KB of it.
    const header = Buffer.concat([Buffer.from([0x10]), remainingLength(10 * 1024 * 1024)]);
    await rawTls(
      { cert: app.certPem, key: app.keyPem },
      Buffer.concat([header, Buffer.alloc(300 * 1024, 0x61)]),
    );
    await expect.poll(() => env.logLines('before its CONNECT was handled').length, POLL).toBe(1);
    // The broker still serves others.
    await connect(app, 'app');
  });

  it('lets a second connection with the same client id take over the first', async () => {
    const device = await env.issueDevice(lobbyT1.thing, { attributes: attrs(lobbyT1) });
    const first = await connect(device, lobbyT1.thing);
    const events: string[] = [];
    env.broker.subscribe('$aws/events/presence/disconnected/+', (m) => {
      events.push(JSON.parse(m.payload.toString()).disconnectReason);
    });
    const second = await connect(device, lobbyT1.thing);
    await first.interrupted;
    await expect.poll(() => events.length, POLL).toBe(1);
    expect(events).toEqual(['DUPLICATE_CLIENTID']);
    await second.publish(telemetryTopic(lobbyT1), { t: 1 });
  });

  it('keeps serving connected clients while others are refused', async () => {
    const device = await env.issueDevice(lobbyT1.thing, { attributes: attrs(lobbyT1) });
    const intruder = await env.issueDevice(lobbyT2.thing, { attributes: attrs(lobbyT2) });
    const app = await connect(await env.issueDevice('app', { policy: allowAllPolicy }), 'app');
    await app.subscribe('dt/zonectl/#');
    const sensor = await connect(device, lobbyT1.thing);

    await rawTls({});
    await rawTls(
      { cert: intruder.certPem, key: intruder.keyPem },
      Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x00]),
    );
    await rawTls({ cert: intruder.certPem, key: intruder.keyPem }, Buffer.from('not mqtt at all\r\n'));
    await expect(connect(intruder, 'wrong-id')).rejects.toThrow();
    const rogue: TestDevice = await connect(intruder, lobbyT2.thing);
    rogue.publish(telemetryTopic(lobbyT1), { t: 99 }).catch(() => {});
    await rogue.interrupted;

    const arrived = app.next(telemetryTopic(lobbyT1));
    await sensor.publish(telemetryTopic(lobbyT1), { t: 20 });
    expect(JSON.parse((await arrived).payload)).toEqual({ t: 20 });
    expect(app.received.filter((r) => r.payload.includes('99'))).toEqual([]);
    expect(
      env.broker
        .connectedClients()
        .map((c) => c.clientId)
        .sort(),
    ).toEqual(['app', lobbyT1.thing]);
  });
});
