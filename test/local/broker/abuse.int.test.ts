/**
 * What an attacker or a broken device sends the broker's TLS port: bytes that are not TLS, a
 * handshake abandoned halfway, bytes that are not MQTT after a good handshake, 500 connections
 * from one certificate, an expired certificate, topics with literal wildcards. Each is dropped
 * or refused with one log line, and the broker keeps serving.
 *
 * AWS IoT Core quotas ("AWS IoT Core endpoints and quotas", message broker limits) limit connect
 * requests per client id (1 per second) and concurrent connections per account (500,000), not
 * connections per certificate, so 500 connections with distinct client ids are all accepted.
 */
import { connect as netConnect } from 'node:net';
import tls from 'node:tls';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { signExpiredCertificate } from '../../../bench/chaos/certs';
import { captureClientHello } from '../../../bench/chaos/raw-mqtt';
import { allowAllPolicy } from '../../helpers/device-policy';
import { type LocalIot, startLocalIot } from '../../helpers/local-iot';
import { connectDevice, disconnectAll } from '../../helpers/mqtt-device';

const POLL = { timeout: 5_000 };

const mqttString = (s: string) => {
  const b = Buffer.from(s);
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
};
/** A raw MQTT 3.1.1 CONNECT (clean session, keep-alive 60 s); the client ids here are short. */
function connectPacket(clientId: string): Buffer {
  const body = Buffer.concat([mqttString('MQTT'), Buffer.from([4, 2, 0, 60]), mqttString(clientId)]);
  return Buffer.concat([Buffer.from([0x10, body.length]), body]);
}

/** A raw QoS 0 PUBLISH. */
function publishPacket(topic: string, payload: string): Buffer {
  const body = Buffer.concat([mqttString(topic), Buffer.from(payload)]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}

/** The first bytes a TLS client sends (its ClientHello), captured from a real client. */
describe('broker: abusive connections', () => {
  let env: LocalIot;
  beforeEach(async () => {
    env = await startLocalIot(undefined, { handshakeTimeoutMs: 500, connectTimeoutMs: 500 });
  });
  afterEach(async () => {
    await disconnectAll();
    await env.close();
  });

  const app = () => env.issueDevice('app', { policy: allowAllPolicy });
  const connect = (d: { certFile: string; keyFile: string }, clientId: string) =>
    connectDevice({
      port: env.broker.port,
      caFile: env.caFile,
      certFile: d.certFile,
      keyFile: d.keyFile,
      clientId,
      cleanSession: true,
    });

  /** Sends raw bytes over TCP; resolves when the server closes the socket. */
  const rawTcp = (bytes: Buffer) =>
    new Promise<void>((resolve) => {
      const socket = netConnect(env.broker.port, '127.0.0.1', () => socket.write(bytes));
      socket.on('error', () => resolve());
      socket.on('close', () => resolve());
    });

  /** Opens a mutual-TLS connection and sends bytes; `reply` resolves with what came back once closed. */
  const rawTls = (cert: { certPem: string; keyPem: string }, bytes?: Buffer) => {
    let data = Buffer.alloc(0);
    let socket: tls.TLSSocket | undefined;
    const reply = new Promise<Buffer>((resolve) => {
      socket = tls.connect(
        {
          host: '127.0.0.1',
          port: env.broker.port,
          ca: env.ca.caPem,
          servername: 'localhost',
          cert: cert.certPem,
          key: cert.keyPem,
        },
        () => {
          if (bytes) socket?.write(bytes);
        },
      );
      socket.on('data', (d: Buffer) => {
        data = Buffer.concat([data, d]);
      });
      socket.on('error', () => resolve(data));
      socket.on('close', () => resolve(data));
    });
    return { reply, socket: () => socket };
  };

  it('drops bytes that are not a TLS ClientHello with one log line and keeps serving', async () => {
    await rawTcp(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    await expect.poll(() => env.logLines('TLS handshake from', 'failed').length, POLL).toBe(1);
    await connect(await app(), 'app');
  });

  it('drops a TLS handshake abandoned after the ClientHello once the handshake timeout passes', async () => {
    const hello = await captureClientHello();
    const socket = netConnect(env.broker.port, '127.0.0.1', () => socket.write(hello));
    socket.on('error', () => {});
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.resume();
    await closed;
    const lines = env.logLines('TLS handshake from', 'failed');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/timeout/i);
    await connect(await app(), 'app');
  });

  it('drops a TLS client that never sends its CONNECT', async () => {
    const { reply } = rawTls(await app());
    await reply;
    expect(env.logLines('before CONNECT completed', 'connect did not arrive in time')).toHaveLength(1);
  });

  it('drops bytes that are not MQTT after a good handshake with one log line and keeps serving', async () => {
    const id = await app();
    const { reply } = rawTls(id, Buffer.from([0xf0, 0x05, 0x01, 0x02, 0x03, 0x04, 0x05, 0x00, 0xff]));
    await reply;
    await expect.poll(() => env.logLines('before CONNECT completed').length, POLL).toBe(1);
    await connect(id, 'app');
  });

  it('refuses an expired certificate the local CA signed and the registry lists as ACTIVE', async () => {
    const expired = await signExpiredCertificate(env.ca.caFile.replace(/\/[^/]+$/, ''), 'old-device');
    env.directory.addCertificate(expired.certificateId, expired.certificatePem, 'ACTIVE');
    env.directory.putPolicy('all', allowAllPolicy);
    env.directory.attachPolicy(expired.certificateId, 'all');
    const { reply } = rawTls(
      { certPem: expired.certificatePem, keyPem: expired.keyPem },
      connectPacket('old-device'),
    );
    const answer = await reply;
    expect(answer.length).toBe(0); // no CONNACK
    await expect.poll(() => env.logLines('refused TLS connection', 'CERT_HAS_EXPIRED').length, POLL).toBe(1);
    expect(env.broker.connectedClients()).toEqual([]);
  });

  it('disconnects a client that publishes on a topic holding a literal + or #', async () => {
    const id = await app();
    // The device SDK refuses such a topic itself, so the packets are written by hand.
    for (const topic of ['a/+/b', 'a/#']) {
      const { reply } = rawTls(id, Buffer.concat([connectPacket('app'), publishPacket(topic, 'x')]));
      const answer = await reply;
      expect(answer.subarray(0, 4)).toEqual(Buffer.from([0x20, 0x02, 0x00, 0x00])); // CONNACK accepted
    }
    expect(env.logLines("client 'app' closed", '+ is not allowed in PUBLISH')).toHaveLength(1);
    expect(env.logLines("client 'app' closed", '# is not allowed in PUBLISH')).toHaveLength(1);
  });

  it('accepts 500 connections from one certificate with distinct client ids and keeps answering', async () => {
    const id = await app();
    const open: tls.TLSSocket[] = [];
    const connack = (clientId: string) =>
      new Promise<number>((resolve) => {
        const socket = tls.connect(
          {
            host: '127.0.0.1',
            port: env.broker.port,
            ca: env.ca.caPem,
            servername: 'localhost',
            cert: id.certPem,
            key: id.keyPem,
          },
          () => socket.write(connectPacket(clientId)),
        );
        open.push(socket);
        socket.once('data', (d: Buffer) => resolve(d[0] === 0x20 ? (d[3] ?? -1) : -1));
        socket.on('error', () => resolve(-2));
        socket.on('close', () => resolve(-3));
      });
    try {
      const codes: number[] = [];
      for (let batch = 0; batch < 10; batch++) {
        codes.push(
          ...(await Promise.all(Array.from({ length: 50 }, (_, i) => connack(`app-${batch * 50 + i}`)))),
        );
      }
      expect(codes.filter((c) => c !== 0)).toEqual([]);
      await expect.poll(() => env.broker.connectedClients().length, POLL).toBe(500);
      // A 501st client still connects, subscribes and gets its own message back.
      const probe = await connect(id, 'probe');
      await probe.subscribe('probe/echo');
      const echoed = probe.next('probe/echo');
      await probe.publish('probe/echo', 'hi');
      expect((await echoed).payload).toBe('hi');
    } finally {
      for (const s of open) s.destroy();
    }
  }, 60_000);
});
