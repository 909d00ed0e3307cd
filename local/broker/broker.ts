/**
 * Local AWS IoT Core message broker: aedes behind a TLS server that requires a client
 * certificate signed by the local CA, with every CONNECT, PUBLISH, SUBSCRIBE and delivery
 * checked against the IoT policies attached to that certificate.
 *
 * Emulated behaviours and the AWS IoT Core developer guide sections they follow:
 * - "Authentication / X.509 client certificates": the certificate must be registered and ACTIVE;
 *   its id is the SHA-256 of the DER certificate. Leaving ACTIVE disconnects live sessions
 *   ("UpdateCertificate": devices using it are disconnected and cannot reconnect).
 * - "Authorization / AWS IoT Core policy actions": iot:Connect on client/<clientId>, iot:Publish
 *   on topic/<t> (plus iot:RetainPublish for retained messages), iot:Subscribe on
 *   topicfilter/<f> per filter, iot:Receive on topic/<t> on every delivery.
 * - "MQTT / AWS IoT differences from MQTT specifications": a denied CONNECT is refused, a denied
 *   PUBLISH or SUBSCRIBE closes the connection, a denied delivery is silently dropped, a second
 *   connection with the same client id takes over the first, QoS 2 is not supported.
 * - "AWS IoT Core message broker and protocol limits and quotas": topic length and depth,
 *   payload size and filters per SUBSCRIBE (see ./topics).
 * - "Reserved topics": clients may use shadow, Basic Ingest, certificate and provisioning topics
 *   their policy allows; nobody subscribes to `$aws/rules/...`; lifecycle events
 *   (`$aws/events/presence/...`) are published by the broker ("Lifecycle events").
 * - "MQTT persistent sessions" and "MQTT retained messages": kept in `<stateDir>/broker/`.
 *
 * LIMITATIONS versus AWS: MQTT 3.1 and 3.1.1 only (no MQTT 5, no WebSockets, no custom
 * authorizers, no SNI-based routing); policies are re-read on every check (AWS caches them for
 * minutes); a denied CONNECT gets CONNACK 5 (not authorized) before the socket closes, where AWS
 * just closes it; Receive denials are logged (AWS only drops them); persistent sessions do not
 * expire; no throttling (publish rate, connections per second); lifecycle `versionNumber`
 * restarts with the broker; will messages are not kept across a restart.
 */
import { randomUUID } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import tls from 'node:tls';
import { Aedes, type Client } from 'aedes';
import { presenceTopic } from '../../contracts';
import { type CloudIdentity, DEFAULT_IDENTITY, iotArn } from '../common/account';
import { errorText, type LocalLogger } from '../common/log';
import type { PolicyEvaluator, PrincipalDirectory } from '../iot/types';
import { authorizationContext, peerCertificateId } from './identity';
import { FilePersistence } from './persistence';
import { connectedEvent, type DisconnectReason, disconnectedEvent, type SessionFacts } from './presence';
import {
  isUnsubscribableFilter,
  MAX_FILTERS_PER_SUBSCRIBE,
  MAX_PAYLOAD_BYTES,
  topicLimitViolation,
  topicMatches,
} from './topics';
import type { BrokerMessage, MessageBus, MessageHandler } from './types';

export interface BrokerTlsOptions {
  /** The broker's server key and certificate, issued by the local CA. */
  readonly keyPem: string;
  readonly certPem: string;
  /** The CA whose signature a client certificate must carry. */
  readonly caPem: string;
}

export interface BrokerOptions {
  /** Interface to listen on; default 127.0.0.1. */
  readonly host?: string;
  /** TCP port; 0 picks a free one. */
  readonly port: number;
  readonly tls: BrokerTlsOptions;
  readonly directory: PrincipalDirectory;
  readonly evaluate: PolicyEvaluator;
  readonly identity?: CloudIdentity;
  /** Retained messages and persistent sessions live in `<stateDir>/broker/`. */
  readonly stateDir: string;
  readonly logger: LocalLogger;
}

export interface ConnectedClient {
  readonly clientId: string;
  readonly certificateId: string;
  readonly thingName?: string;
  readonly sessionIdentifier: string;
}

export interface Broker extends MessageBus {
  readonly port: number;
  readonly host: string;
  connectedClients(): ConnectedClient[];
  close(): Promise<void>;
}

interface Session extends SessionFacts {
  readonly certificateId: string;
  readonly thingName?: string;
  readonly certificateArn: string;
  readonly client: Client;
  reason?: DisconnectReason;
  /** Whether this session reached CONNACK and so produces a disconnected event. */
  announced: boolean;
}

/** A refusal this module already logged; aedes closes the connection on it. */
class Refusal extends Error {
  override readonly name = 'Refusal';
  constructor(
    message: string,
    readonly returnCode?: number,
  ) {
    super(message);
  }
}

/** Reserved topic prefixes a client may publish to, given a policy that allows it. */
const CLIENT_PUBLISHABLE_RESERVED = [
  '$aws/things/',
  '$aws/rules/',
  '$aws/certificates/',
  '$aws/provisioning-templates/',
];

interface Observer {
  readonly filter: string;
  readonly handler: MessageHandler;
}

// aedes' internals the broker reads: the TLS socket, the MQTT DISCONNECT flag, the parser.
interface ClientInternals {
  conn: tls.TLSSocket;
  _disconnected?: boolean;
  _parser?: { prependListener(event: 'packet', fn: (packet: unknown) => void): void };
}
const internals = (client: Client) => client as unknown as ClientInternals;

/** Marks the subscriptions of a SUBSCRIBE with too many filters, read by authorizeSubscribe. */
const TOO_MANY_FILTERS = Symbol('tooManyFilters');

export async function createBroker(options: BrokerOptions): Promise<Broker> {
  const { directory, evaluate } = options;
  const identity = options.identity ?? DEFAULT_IDENTITY;
  const log = options.logger.child('broker');
  const host = options.host ?? '127.0.0.1';
  const brokerDir = join(options.stateDir, 'broker');
  mkdirSync(brokerDir, { recursive: true });

  const persistence = new FilePersistence(join(brokerDir, 'state.json'), (err) =>
    log.error(`cannot write broker state to ${brokerDir}: ${errorText(err)}`),
  );
  const sessions = new WeakMap<Client, Session>();
  const sessionsByCertificate = new Map<string, Set<Session>>();
  const connectionCounts = new Map<string, number>();
  const observers = new Set<Observer>();

  const resource = (type: 'client' | 'topic' | 'topicfilter', name: string) => iotArn(identity, type, name);
  const certShort = (id: string) => id.slice(0, 12);

  /** One line per refusal: client, action, resource, reason, consequence. */
  function refuse(
    session: { clientId: string; certificateId?: string },
    action: string,
    res: string,
    reason: string,
    consequence: string,
  ): Refusal {
    const cert = session.certificateId ? ` certificate ${certShort(session.certificateId)}` : '';
    const line = `denied ${action} on ${res} for client '${session.clientId}'${cert}: ${reason}; ${consequence}`;
    log.warn(line);
    return new Refusal(line);
  }

  /** Evaluates one action for a live session; undefined when allowed, else the reason. */
  function check(session: Session, action: string, res: string): string | undefined {
    const cert = directory.certificateById(session.certificateId);
    if (cert?.status !== 'ACTIVE') {
      return `certificate is ${cert ? cert.status : 'no longer registered'}`;
    }
    const context = authorizationContext(
      directory,
      session.certificateArn,
      session.certificateId,
      session.clientId,
      session.ipAddress,
    );
    const result = evaluate(
      directory.policiesOfPrincipal(session.certificateArn),
      { action, resource: res },
      context,
    );
    return result.allowed ? undefined : result.reason;
  }

  function dispatch(message: BrokerMessage): void {
    for (const observer of observers) {
      if (!topicMatches(observer.filter, message.topic)) continue;
      try {
        const result = observer.handler(message);
        if (result && typeof (result as Promise<void>).catch === 'function') {
          (result as Promise<void>).catch((err: unknown) =>
            log.error(`observer of '${observer.filter}' failed on '${message.topic}': ${errorText(err)}`),
          );
        }
      } catch (err) {
        log.error(`observer of '${observer.filter}' failed on '${message.topic}': ${errorText(err)}`);
      }
    }
  }

  function publishPresence(topic: string, payload: object): void {
    aedes.publish(
      {
        cmd: 'publish',
        topic,
        payload: Buffer.from(JSON.stringify(payload)),
        qos: 0,
        retain: false,
        dup: false,
      },
      (err?: Error) => {
        if (err) log.error(`cannot publish lifecycle event on ${topic}: ${errorText(err)}`);
      },
    );
  }

  const aedes = await Aedes.createBroker({
    persistence,
    // AWS allows client ids up to 128 bytes; aedes only limits MQTT 3.1 ids by this.
    maxClientsIdLength: 128,
    preConnect(client, packet, callback) {
      // Watch SUBSCRIBE packets before aedes handles them, to enforce the filters-per-SUBSCRIBE
      // quota, which authorizeSubscribe (one filter at a time) cannot see.
      internals(client)._parser?.prependListener('packet', (p: unknown) => {
        const pkt = p as { cmd?: string; subscriptions?: Array<Record<symbol, boolean>> };
        if (pkt.cmd === 'subscribe' && (pkt.subscriptions?.length ?? 0) > MAX_FILTERS_PER_SUBSCRIBE) {
          for (const s of pkt.subscriptions ?? []) s[TOO_MANY_FILTERS] = true;
        }
      });
      callback(null, packet.cmd === 'connect');
    },
    authenticate(client, _username, _password, done) {
      const socket = internals(client).conn;
      const clientId = client.id;
      const ip = socket.remoteAddress;
      const certificateId = peerCertificateId(socket);
      const fail = (reason: string, certificateId?: string) => {
        const err = refuse(
          { clientId, ...(certificateId ? { certificateId } : {}) },
          'iot:Connect',
          resource('client', clientId),
          reason,
          'connection refused',
        ) as Refusal & { returnCode: number };
        err.returnCode = 5;
        done(err, false);
      };
      try {
        if (!certificateId) return fail('no client certificate');
        const cert = directory.certificateById(certificateId);
        if (!cert) return fail('certificate is not registered', certificateId);
        if (cert.status !== 'ACTIVE') return fail(`certificate is ${cert.status}`, certificateId);
        const version = (connectionCounts.get(clientId) ?? 0) + 1;
        const context = authorizationContext(directory, cert.certificateArn, certificateId, clientId, ip);
        const session: Session = {
          clientId,
          sessionIdentifier: randomUUID(),
          principalIdentifier: certificateId,
          ...(ip ? { ipAddress: ip } : {}),
          versionNumber: version,
          certificateId,
          certificateArn: cert.certificateArn,
          client,
          announced: false,
          ...(context.thing ? { thingName: context.thing.thingName } : {}),
        };
        const denied = check(session, 'iot:Connect', resource('client', clientId));
        if (denied) return fail(denied, certificateId);
        connectionCounts.set(clientId, version);
        const previous = (aedes as unknown as { clients: Record<string, Client | undefined> }).clients[
          clientId
        ];
        const previousSession = previous ? sessions.get(previous) : undefined;
        if (previousSession) previousSession.reason = 'DUPLICATE_CLIENTID';
        sessions.set(client, session);
        let set = sessionsByCertificate.get(certificateId);
        if (!set) {
          set = new Set();
          sessionsByCertificate.set(certificateId, set);
        }
        set.add(session);
        done(null, true);
      } catch (err) {
        log.error(`authentication of client '${clientId}' failed: ${errorText(err)}`);
        const e = new Error('Server unavailable') as Error & { returnCode: number };
        e.returnCode = 3;
        done(e as never, false);
      }
    },
    authorizePublish(client, packet, callback) {
      if (!client) return callback(null);
      const session = sessions.get(client);
      if (!session) return callback(new Refusal('no session'));
      const topic = packet.topic;
      const res = resource('topic', topic);
      const disconnect = (reason: string, action = 'iot:Publish') => {
        session.reason = 'FORBIDDEN_ACCESS';
        callback(refuse(session, action, res, reason, 'client disconnected'));
      };
      if (packet.qos === 2) return disconnect('QoS 2 is not supported');
      const size = Buffer.byteLength(packet.payload ?? '');
      if (size > MAX_PAYLOAD_BYTES) {
        return disconnect(`payload is ${size} bytes; the limit is ${MAX_PAYLOAD_BYTES}`);
      }
      const limit = topicLimitViolation(topic);
      if (limit) return disconnect(limit);
      if (topic.startsWith('$') && !CLIENT_PUBLISHABLE_RESERVED.some((p) => topic.startsWith(p))) {
        return disconnect('reserved topic; clients cannot publish to it');
      }
      const denied = check(session, 'iot:Publish', res);
      if (denied) return disconnect(denied);
      if (packet.retain) {
        const deniedRetain = check(session, 'iot:RetainPublish', res);
        if (deniedRetain) return disconnect(deniedRetain, 'iot:RetainPublish');
      }
      callback(null);
    },
    authorizeSubscribe(client, sub, callback) {
      const session = sessions.get(client);
      if (!session) return callback(new Refusal('no session'));
      const res = resource('topicfilter', sub.topic);
      const disconnect = (reason: string) => {
        session.reason = 'FORBIDDEN_ACCESS';
        callback(refuse(session, 'iot:Subscribe', res, reason, 'client disconnected'));
      };
      if ((sub as unknown as Record<symbol, boolean>)[TOO_MANY_FILTERS]) {
        return disconnect(`more than ${MAX_FILTERS_PER_SUBSCRIBE} topic filters in one SUBSCRIBE`);
      }
      if (sub.qos === 2) return disconnect('QoS 2 is not supported');
      const limit = topicLimitViolation(sub.topic);
      if (limit) return disconnect(limit);
      if (isUnsubscribableFilter(sub.topic)) return disconnect('Basic Ingest topics cannot be subscribed to');
      const denied = check(session, 'iot:Subscribe', res);
      if (denied) return disconnect(denied);
      callback(null, sub);
    },
    authorizeForward(client, packet) {
      if (packet.topic.startsWith('$SYS/')) return null;
      const session = sessions.get(client);
      if (!session) return null;
      const res = resource('topic', packet.topic);
      const denied = check(session, 'iot:Receive', res);
      if (denied) {
        refuse(session, 'iot:Receive', res, denied, 'message not delivered');
        return null;
      }
      return packet;
    },
    published(packet, client, callback) {
      callback(null);
      if (packet.topic.startsWith('$SYS/')) return;
      const session = client ? sessions.get(client) : undefined;
      dispatch({
        topic: packet.topic,
        payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload ?? ''),
        qos: packet.qos === 0 ? 0 : 1,
        retain: packet.retain,
        ...(session
          ? {
              clientId: session.clientId,
              principal: session.certificateId,
              ...(session.thingName ? { thingName: session.thingName } : {}),
            }
          : {}),
      });
    },
  });

  (aedes as EventEmitter).on('error', (err: Error) => log.error(`broker error: ${errorText(err)}`));
  aedes.on('connectionError', (_client: Client, err: Error) => {
    if (!(err instanceof Refusal)) log.warn(`connection closed before CONNECT completed: ${err.message}`);
  });
  aedes.on('clientError', (client: Client, err: Error) => {
    if (err instanceof Refusal) return;
    const session = sessions.get(client);
    if (session && !session.reason) session.reason = 'CLIENT_ERROR';
    log.warn(`client '${client.id}' closed: ${err.message}`);
  });
  aedes.on('keepaliveTimeout', (client: Client) => {
    const session = sessions.get(client);
    if (session) session.reason = 'MQTT_KEEP_ALIVE_TIMEOUT';
  });
  aedes.on('clientReady', (client: Client) => {
    const session = sessions.get(client);
    if (!session) return;
    session.announced = true;
    log.info(`client '${session.clientId}' connected (certificate ${certShort(session.certificateId)})`);
    publishPresence(presenceTopic('connected', session.clientId), connectedEvent(session));
  });
  aedes.on('clientDisconnect', (client: Client) => {
    const session = sessions.get(client);
    if (!session) return;
    sessionsByCertificate.get(session.certificateId)?.delete(session);
    if (!session.announced) return;
    const reason =
      session.reason ?? (internals(client)._disconnected ? 'CLIENT_INITIATED_DISCONNECT' : 'CONNECTION_LOST');
    log.info(`client '${session.clientId}' disconnected: ${reason}`);
    publishPresence(presenceTopic('disconnected', session.clientId), disconnectedEvent(session, reason));
  });

  const stopListening = directory.on((event) => {
    if (event.type !== 'certificate-status' || event.status === 'ACTIVE') return;
    for (const session of sessionsByCertificate.get(event.certificateId) ?? []) {
      refuse(
        session,
        'iot:Connect',
        resource('client', session.clientId),
        `certificate is now ${event.status}`,
        'live session closed',
      );
      session.reason = 'AUTH_ERROR';
      session.client.close();
    }
  });

  const sockets = new Set<tls.TLSSocket>();
  const server = tls.createServer(
    {
      key: options.tls.keyPem,
      cert: options.tls.certPem,
      ca: options.tls.caPem,
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
    },
    (socket) => {
      // The handshake asks for a certificate and verifies it against the local CA; the verdict
      // is read here (rather than with rejectUnauthorized) so the log can say why it failed.
      const refusal = peerRefusal(socket);
      if (refusal) {
        log.warn(`refused TLS connection from ${socket.remoteAddress ?? 'unknown'}: ${refusal}`);
        socket.on('error', () => {});
        socket.destroy();
        return;
      }
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {});
      aedes.handle(socket);
    },
  );
  server.on('tlsClientError', (err, socket) => {
    log.warn(`TLS handshake from ${socket.remoteAddress ?? 'unknown'} failed: ${err.message}`);
    socket.destroy();
  });
  server.on('error', (err) => log.error(`TLS server error: ${errorText(err)}`));

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  log.info(`MQTT over TLS listening on ${host}:${port}`);

  let closed = false;
  return {
    port,
    host,
    connectedClients() {
      const out: ConnectedClient[] = [];
      for (const set of sessionsByCertificate.values()) {
        for (const s of set) {
          if (!s.announced) continue;
          out.push({
            clientId: s.clientId,
            certificateId: s.certificateId,
            sessionIdentifier: s.sessionIdentifier,
            ...(s.thingName ? { thingName: s.thingName } : {}),
          });
        }
      }
      return out;
    },
    publish(message) {
      const qos = message.qos ?? 0;
      if (qos !== 0 && qos !== 1) return Promise.reject(new Error(`QoS ${String(qos)} is not supported`));
      const payload = typeof message.payload === 'string' ? Buffer.from(message.payload) : message.payload;
      return new Promise<void>((resolve, reject) => {
        aedes.publish(
          { cmd: 'publish', topic: message.topic, payload, qos, retain: message.retain ?? false, dup: false },
          (err?: Error) => (err ? reject(err) : resolve()),
        );
      });
    },
    subscribe(filter, handler) {
      const observer: Observer = { filter, handler };
      observers.add(observer);
      return () => {
        observers.delete(observer);
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      stopListening();
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      // Connections that never sent CONNECT are not aedes clients yet.
      for (const socket of sockets) socket.destroy();
      await stopped;
      persistence.flush();
      observers.clear();
      log.info('broker stopped');
    },
  };
}

/** Why a TLS client is not accepted, in words, or undefined when its certificate is good. */
function peerRefusal(socket: tls.TLSSocket): string | undefined {
  const cert = socket.getPeerCertificate();
  if (!cert?.raw || cert.raw.length === 0) return 'no client certificate';
  if (socket.authorized) return undefined;
  const code = String(socket.authorizationError ?? 'unknown error');
  if (/ISSUER|SIGNATURE|SELF_SIGNED|LEAF/.test(code))
    return `client certificate not signed by the local CA (${code})`;
  return `client certificate not accepted (${code})`;
}
