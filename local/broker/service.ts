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
 * authorizers, no SNI-based routing); a registry change (policy, attachment, thing, certificate
 * status) applies to the next check, where AWS caches policies for minutes; a denied CONNECT
 * gets CONNACK 5 (not authorized) before the socket closes, where AWS just closes it; Receive denials are logged (AWS only drops them); persistent sessions do not
 * expire; no throttling (publish rate, connections per second); lifecycle `versionNumber`
 * restarts with the broker; will messages are not kept across a restart.
 */
import type { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Aedes, type Client } from 'aedes';
import { DEFAULT_IDENTITY, errorText } from '../common';
import { internals } from './aedes-internals';
import { createBrokerContext } from './context';
import { authenticateHook } from './hooks/authenticate';
import { authorizeForwardHook } from './hooks/authorize-forward';
import { authorizePublishHook } from './hooks/authorize-publish';
import { authorizeSubscribeHook } from './hooks/authorize-subscribe';
import { preConnectHook } from './hooks/limits';
import { watchPresence } from './hooks/presence';
import { Observers, publishedHook } from './hooks/published';
import { closeSessionsOfRevokedCertificates } from './hooks/revocation';
import { SessionRegistry } from './sessions';
import { FilePersistence } from './store';
import { listenTls } from './tls';
import { topicMatches } from './topics';
import type { BrokerService, BrokerServiceOptions } from './types';

/** AWS allows client ids up to 128 bytes; aedes only limits MQTT 3.1 ids by this. */
const MAX_CLIENT_ID_LENGTH = 128;

export async function createBrokerService(options: BrokerServiceOptions): Promise<BrokerService> {
  const log = options.logger.child('broker');
  const host = options.host ?? '127.0.0.1';
  const brokerDir = join(options.stateDir, 'broker');
  mkdirSync(brokerDir, { recursive: true });

  const persistence = new FilePersistence(join(brokerDir, 'state.json'), (err) =>
    log.error(`cannot write broker state to ${brokerDir}: ${errorText(err)}`),
  );
  const sessions = new SessionRegistry();
  const observers = new Observers(log);
  let aedes: Aedes | undefined;
  const ctx = createBrokerContext({
    directory: options.directory,
    compile: options.compile,
    identity: options.identity ?? DEFAULT_IDENTITY,
    log,
    sessions,
    clientById: (clientId) =>
      (aedes as unknown as { clients: Record<string, Client | undefined> } | undefined)?.clients[clientId],
  });

  aedes = await Aedes.createBroker({
    persistence,
    maxClientsIdLength: MAX_CLIENT_ID_LENGTH,
    preConnect: preConnectHook(),
    authenticate: authenticateHook(ctx),
    authorizePublish: authorizePublishHook(ctx),
    authorizeSubscribe: authorizeSubscribeHook(ctx),
    authorizeForward: authorizeForwardHook(ctx),
    published: publishedHook(sessions, observers),
  });
  const broker = aedes;
  (broker as EventEmitter).on('error', (err: Error) => log.error(`broker error: ${errorText(err)}`));
  watchPresence(broker, ctx);
  const stopRevocations = closeSessionsOfRevokedCertificates(ctx);

  const listener = await listenTls({ host, port: options.port, tls: options.tls }, log, (socket) =>
    broker.handle(socket),
  );
  log.info(`MQTT over TLS listening on ${host}:${listener.port}`);

  let closed = false;
  return {
    port: listener.port,
    host,
    connectedClients: () => sessions.connected(),
    publish(message) {
      const qos = message.qos ?? 0;
      if (qos !== 0 && qos !== 1) return Promise.reject(new Error(`QoS ${String(qos)} is not supported`));
      const payload = typeof message.payload === 'string' ? Buffer.from(message.payload) : message.payload;
      return new Promise<void>((resolve, reject) => {
        broker.publish(
          { cmd: 'publish', topic: message.topic, payload, qos, retain: message.retain ?? false, dup: false },
          (err?: Error) => (err ? reject(err) : resolve()),
        );
      });
    },
    subscribe: (filter, handler) => observers.add(filter, handler),
    publishTo(clientId, message) {
      const client = (broker as unknown as { clients: Record<string, Client | undefined> }).clients[clientId];
      if (!client || client.closed) return Promise.resolve(false);
      const subscribed = Object.keys(internals(client).subscriptions ?? {}).some((filter) =>
        topicMatches(filter, message.topic),
      );
      if (!subscribed) return Promise.resolve(false);
      const payload = typeof message.payload === 'string' ? Buffer.from(message.payload) : message.payload;
      // client.publish runs the delivery through authorizeForward, so iot:Receive applies.
      return new Promise<boolean>((resolve) => {
        client.publish(
          { cmd: 'publish', topic: message.topic, payload, qos: message.qos ?? 0, retain: false, dup: false },
          (err?: Error) => resolve(!err),
        );
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      stopRevocations();
      ctx.dispose();
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await listener.close();
      persistence.flush();
      observers.clear();
      log.info('broker stopped');
    },
  };
}
