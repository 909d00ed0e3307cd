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
 * - "Quality of service (QoS)": a QoS 1 message that a service acts on, a persistent session
 *   may queue, or that is retained is journaled on disk before its PUBACK and handed to those
 *   services at least once, across a crash (./journal).
 *
 * LIMITATIONS versus AWS: MQTT 3.1 and 3.1.1 only (no MQTT 5, no WebSockets, no custom
 * authorizers, no SNI-based routing); a registry change (policy, attachment, thing, certificate
 * status) applies to the next check, where AWS caches policies for minutes; a denied CONNECT
 * gets CONNACK 5 (not authorized) before the socket closes, where AWS just closes it; Receive denials are logged (AWS only drops them); persistent sessions do not
 * expire; no throttling (publish rate, connections per second); lifecycle `versionNumber`
 * restarts with the broker; will messages are not kept across a restart; no TLS session
 * resumption (./tls).
 */
import type { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Aedes, type Client, type PublishPacket } from 'aedes';
import { compileTopicFilter, DEFAULT_IDENTITY, errorText, type TopicMatcher, topicMatches } from '../common';
import { internals } from './aedes-internals';
import { createBrokerContext } from './context';
import { authenticateHook } from './hooks/authenticate';
import { authorizeForwardHook } from './hooks/authorize-forward';
import { authorizePublishHook } from './hooks/authorize-publish';
import { authorizeSubscribeHook } from './hooks/authorize-subscribe';
import { preConnectHook } from './hooks/limits';
import { watchPresence } from './hooks/presence';
import { JOURNALED, type JournaledPacket, Observers, publishedHook, sourceIpOf } from './hooks/published';
import { closeSessionsOfRevokedCertificates } from './hooks/revocation';
import { InboundJournal, type JournaledMessage } from './journal';
import { SessionRegistry } from './sessions';
import { FilePersistence } from './store';
import { listenTls } from './tls';
import type { BrokerMessage, BrokerService, BrokerServiceOptions } from './types';

/** AWS allows client ids up to 128 bytes; aedes only limits MQTT 3.1 ids by this. */
const MAX_CLIENT_ID_LENGTH = 128;
/** How long a client may take between its TLS handshake and its CONNECT. */
const DEFAULT_CONNECT_TIMEOUT_MS = 20_000;

export async function createBrokerService(options: BrokerServiceOptions): Promise<BrokerService> {
  const log = options.logger.child('broker');
  const host = options.host ?? '127.0.0.1';
  const brokerDir = join(options.stateDir, 'broker');
  mkdirSync(brokerDir, { recursive: true });

  const persistence = new FilePersistence(join(brokerDir, 'state.json'), log);
  const journal = InboundJournal.open({
    dir: brokerDir,
    logger: log,
    ...(options.maxPendingMessages !== undefined ? { maxPending: options.maxPendingMessages } : {}),
  });
  const restored = journal.pendingCount;
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

  /** Journaled messages aedes has handed to the observers in this run. */
  const dispatched = new Set<string>();
  /** Journaled service messages held until their publisher releases them (PublishOptions.until). */
  const held = new Set<string>();
  const replayGuards = new Set<{ matches: TopicMatcher; keep: (m: BrokerMessage) => boolean }>();
  /** A journaled message is done once its durable observers and the offline queues have it. */
  const settled = (journaled: JournaledMessage, handled: Promise<void>) => {
    dispatched.add(journaled.id);
    handled
      .then(() => persistence.whenSaved())
      .then(() => {
        dispatched.delete(journaled.id);
        journal.done(journaled.id);
      })
      .catch((err: unknown) =>
        log.error(`message ${journaled.id} on ${journaled.topic} stays journaled: ${errorText(err)}`),
      );
  };

  /**
   * Whether a crash between the acknowledgement of a QoS 1 message and its effects could lose
   * something: an observer acts on it (a rule's actions, the Device Shadow, provisioning), a
   * persistent session may queue it, or it is retained. A message that only reaches connected
   * clean sessions is not journaled: a crash ends those sessions, and AWS IoT keeps nothing of
   * them either ("MQTT persistent sessions").
   */
  const needsJournal = (topic: string, retain: boolean) =>
    retain || observers.actOn(topic) || persistence.hasPersistentSubscriber(topic);

  /** Journals an allowed QoS 1 publish of a device that needs it; its PUBACK waits for the write. */
  const journalPublish = (
    _client: Client,
    session: { clientId: string; certificateId: string; thingName?: string; ipAddress?: string },
    packet: PublishPacket,
    callback: (error?: Error | null) => void,
  ) => {
    if (packet.qos !== 1 || !needsJournal(packet.topic, packet.retain ?? false)) return callback(null);
    journal
      .accept({
        topic: packet.topic,
        payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload ?? ''),
        qos: 1,
        retain: packet.retain ?? false,
        clientId: session.clientId,
        principal: session.certificateId,
        ...(session.thingName ? { thingName: session.thingName } : {}),
        ...(session.ipAddress ? { sourceIp: sourceIpOf(session.ipAddress) } : {}),
        receivedAt: Date.now(),
      })
      .then(
        (journaled) => {
          (packet as PublishPacket & JournaledPacket)[JOURNALED] = journaled;
          callback(null);
        },
        (err: Error) => callback(err),
      );
  };

  aedes = await Aedes.createBroker({
    persistence,
    maxClientsIdLength: MAX_CLIENT_ID_LENGTH,
    // A TLS client that sends no CONNECT is dropped after this (aedes's default is 30 s).
    connectTimeout: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    preConnect: preConnectHook(),
    authenticate: authenticateHook(ctx),
    authorizePublish: authorizePublishHook(ctx, journalPublish),
    authorizeSubscribe: authorizeSubscribeHook(ctx),
    authorizeForward: authorizeForwardHook(ctx),
    published: publishedHook(sessions, observers, settled),
  });
  const broker = aedes;
  (broker as EventEmitter).on('error', (err: Error) => log.error(`broker error: ${errorText(err)}`));
  watchPresence(broker, ctx);
  const stopRevocations = closeSessionsOfRevokedCertificates(ctx);

  const listener = await listenTls(
    {
      host,
      port: options.port,
      tls: options.tls,
      ...(options.handshakeTimeoutMs !== undefined ? { handshakeTimeoutMs: options.handshakeTimeoutMs } : {}),
    },
    log,
    (socket) => broker.handle(socket),
  );
  log.info(`MQTT over TLS listening on ${host}:${listener.port}`);

  /** Hands a packet to aedes: fan-out to subscribers and offline queues, then the observers. */
  const publishPacket = (packet: PublishPacket & JournaledPacket) =>
    new Promise<void>((resolve, reject) => {
      broker.publish(packet, (err?: Error) => (err ? reject(err) : resolve()));
    });

  /** Hands journaled messages that aedes has not dispatched in this run to the observers. */
  const handOver = (messages: readonly JournaledMessage[]) => {
    for (const m of messages) {
      const packet: PublishPacket & JournaledPacket = {
        cmd: 'publish',
        topic: m.topic,
        payload: m.payload,
        qos: m.qos,
        retain: m.retain,
        dup: false,
        [JOURNALED]: m,
      };
      publishPacket(packet).catch((err: unknown) =>
        log.error(`journaled message ${m.id} on ${m.topic} could not be handed over: ${errorText(err)}`),
      );
    }
  };

  let opened = false;
  let accepting = true;
  let closed = false;
  /**
   * The first step of a clean stop: no new connections, live ones closed, while the bus keeps
   * serving the services so the accepted messages can reach their actions. A message journaled
   * just before its client closed (its PUBACK never sent) is handed over here.
   */
  const stopAccepting = async () => {
    if (!accepting) return;
    accepting = false;
    stopRevocations();
    await listener.close();
    const clients = Object.values((broker as unknown as { clients: Record<string, Client> }).clients);
    await Promise.all(clients.map((c) => new Promise<void>((resolve) => c.close(() => resolve()))));
    // Let handlers that were mid-way through a packet finish their step.
    await new Promise<void>((resolve) => setImmediate(resolve));
    handOver(journal.waiting().filter((m) => !dispatched.has(m.id) && !held.has(m.id)));
  };

  if (restored > 0) log.info(`${restored} journaled message(s) from before the last stop are waiting`);

  return {
    port: listener.port,
    host,
    connectedClients: () => sessions.connected(),
    async publish(message, options) {
      const qos = message.qos ?? 0;
      if (qos !== 0 && qos !== 1) throw new Error(`QoS ${String(qos)} is not supported`);
      if (closed) throw new Error('the broker is stopped');
      const payload = typeof message.payload === 'string' ? Buffer.from(message.payload) : message.payload;
      // Settled now, so a rejection is handled while the message is being journaled.
      const released = options?.until?.then(
        (release) => release === true,
        () => false,
      );
      const packet: PublishPacket & JournaledPacket = {
        cmd: 'publish',
        topic: message.topic,
        payload,
        qos,
        retain: message.retain ?? false,
        dup: false,
        ...(message.hops ? { hops: message.hops } : {}),
      };
      if (qos === 1 && needsJournal(message.topic, message.retain ?? false)) {
        packet[JOURNALED] = await journal.accept(
          {
            topic: message.topic,
            payload,
            qos,
            retain: message.retain ?? false,
            ...(message.hops ? { hops: message.hops } : {}),
            receivedAt: Date.now(),
          },
          false,
        );
      }
      if (released) {
        const id = packet[JOURNALED]?.id;
        if (id) held.add(id);
        const release = await released;
        if (id) held.delete(id);
        if (!release) {
          if (id) journal.done(id);
          return;
        }
        // Released after the broker closed: it stays journaled for the next start's replay.
        if (closed) return;
      }
      await publishPacket(packet);
    },
    subscribe: (filter, handler, o) => observers.add(filter, handler, o?.actsOn),
    guardReplay(filter, keep) {
      const guard = { matches: compileTopicFilter(filter), keep };
      replayGuards.add(guard);
      return () => replayGuards.delete(guard);
    },
    open() {
      if (opened) return 0;
      opened = true;
      const kept = (m: JournaledMessage, keep: (m: BrokerMessage) => boolean) => {
        try {
          return keep(m);
        } catch (err) {
          log.error(`replay guard failed on ${m.topic}; handing message ${m.id} over: ${errorText(err)}`);
          return true;
        }
      };
      const waiting = journal.waiting().filter((m) => {
        for (const g of replayGuards) {
          if (!g.matches(m.topic) || kept(m, g.keep)) continue;
          journal.done(m.id);
          return false;
        }
        return true;
      });
      handOver(waiting);
      if (waiting.length > 0) {
        log.info(`handed ${waiting.length} journaled message(s) from before the last stop to the services`);
      }
      listener.serve();
      return waiting.length;
    },
    pendingMessages: () => journal.pendingCount,
    stopAccepting,
    drain: (timeoutMs) => journal.drain(timeoutMs),
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
      await stopAccepting();
      closed = true;
      stopRevocations();
      ctx.dispose();
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      observers.clear();
      persistence.flush();
      const left = journal.pendingCount;
      await journal.close();
      if (left > 0) {
        log.warn(
          `${left} journaled message(s) not yet handled are kept; they are handed over after the next start`,
        );
      }
      log.info('broker stopped');
    },
  };
}
