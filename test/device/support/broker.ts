/**
 * An aedes broker behind a mutual-TLS server on an ephemeral port, with a minimal named-shadow
 * responder (get, update, delta) so agent tests can run before the local cloud's shadow
 * service. It can be stopped and started again on the same port to simulate an outage.
 */
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { Aedes } from 'aedes';
import type { TestPki } from '../../helpers/pki';

export interface PublishedMessage {
  readonly topic: string;
  readonly payload: string;
  readonly clientId: string | undefined;
}

export interface TestBroker {
  readonly port: number;
  readonly published: PublishedMessage[];
  /** Every subscription granted, in order. */
  readonly subscriptions: Array<{ readonly clientId: string; readonly topic: string; readonly qos: number }>;
  /** Shadow documents by `thing/shadowName`. */
  readonly shadows: Map<
    string,
    { desired: Record<string, unknown>; reported: Record<string, unknown>; version: number }
  >;
  /** Clients that may connect (empty = anyone with a CA-signed certificate). */
  readonly refused: Set<string>;
  /** Writes `desired` like UpdateThingShadow and publishes the delta. */
  setDesired(thing: string, shadowName: string, desired: Record<string, unknown>): void;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

function delta(desired: Record<string, unknown>, reported: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(desired)) {
    if (JSON.stringify(reported[k]) !== JSON.stringify(v)) out[k] = v;
  }
  return out;
}

function merge(target: Record<string, unknown>, patch: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete target[k];
    else if (typeof v === 'object' && !Array.isArray(v)) {
      const inner = (typeof target[k] === 'object' && target[k] !== null ? target[k] : {}) as Record<
        string,
        unknown
      >;
      merge(inner, v as Record<string, unknown>);
      target[k] = inner;
    } else target[k] = v;
  }
}

export async function createTestBroker(pki: TestPki): Promise<TestBroker> {
  const published: PublishedMessage[] = [];
  const subscriptions: TestBroker['subscriptions'] = [];
  const shadows: TestBroker['shadows'] = new Map();
  const refused = new Set<string>();
  let broker: Aedes;
  let server: tls.Server;
  let port = 0;

  const shadowOf = (key: string) => {
    let s = shadows.get(key);
    if (!s) {
      s = { desired: {}, reported: {}, version: 0 };
      shadows.set(key, s);
    }
    return s;
  };

  const send = (topic: string, body: unknown) =>
    broker.publish(
      {
        cmd: 'publish',
        topic,
        payload: Buffer.from(JSON.stringify(body)),
        qos: 1,
        retain: false,
        dup: false,
      },
      () => undefined,
    );

  const start = async () => {
    broker = await Aedes.createBroker();
    broker.authenticate = (client, _u, _p, done) => {
      if (refused.has(client.id)) {
        const err = Object.assign(new Error('not authorized'), { returnCode: 5 });
        done(err as never, false);
      } else done(null, true);
    };
    broker.on('subscribe', (subs, client) => {
      for (const sub of subs) subscriptions.push({ clientId: client.id, topic: sub.topic, qos: sub.qos });
    });
    broker.on('publish', (packet, client) => {
      if (!client) return;
      const topic = packet.topic;
      const payload = packet.payload.toString();
      published.push({ topic, payload, clientId: client.id });
      const m = /^\$aws\/things\/([^/]+)\/shadow\/name\/([^/]+)\/(get|update)$/.exec(topic);
      if (!m) return;
      const [, thing, name, op] = m;
      const prefix = `$aws/things/${thing}/shadow/name/${name}`;
      const key = `${thing}/${name}`;
      const body = payload ? (JSON.parse(payload) as Record<string, unknown>) : {};
      if (op === 'get') {
        const s = shadows.get(key);
        if (!s)
          send(`${prefix}/get/rejected`, { code: 404, message: `No shadow exists with name: '${name}'` });
        else {
          const d = delta(s.desired, s.reported);
          send(`${prefix}/get/accepted`, {
            state: {
              desired: s.desired,
              reported: s.reported,
              ...(Object.keys(d).length ? { delta: d } : {}),
            },
            version: s.version,
            clientToken: body.clientToken,
          });
        }
      } else {
        const s = shadowOf(key);
        const state = (body.state ?? {}) as Record<string, Record<string, unknown>>;
        if (state.reported) merge(s.reported, state.reported);
        if (state.desired) merge(s.desired, state.desired);
        s.version++;
        send(`${prefix}/update/accepted`, { state, version: s.version, clientToken: body.clientToken });
      }
    });
    server = tls.createServer(
      {
        key: pki.serverKeyPem,
        cert: pki.serverCertPem,
        ca: pki.caPem,
        requestCert: true,
        rejectUnauthorized: true,
      },
      broker.handle as never,
    );
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  };

  const stop = async () => {
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };

  await start();
  return {
    get port() {
      return port;
    },
    published,
    subscriptions,
    shadows,
    refused,
    setDesired(thing, shadowName, desired) {
      const s = shadowOf(`${thing}/${shadowName}`);
      merge(s.desired, desired);
      s.version++;
      const d = delta(s.desired, s.reported);
      if (Object.keys(d).length > 0) {
        send(`$aws/things/${thing}/shadow/name/${shadowName}/update/delta`, { state: d, version: s.version });
      }
    },
    stop,
    start,
    close: stop,
  };
}
