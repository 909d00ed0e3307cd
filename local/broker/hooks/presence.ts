/**
 * Lifecycle events (AWS IoT Core Developer Guide, "Lifecycle events": connect and disconnect
 * events on `$aws/events/presence/connected|disconnected/<clientId>`): the payloads, and the
 * aedes events that decide when they are published and with which disconnectReason.
 *
 * LIMITATIONS versus AWS: `versionNumber` counts connections per client id since the broker
 * started (AWS keeps it across its fleet for about an hour); events are published once, at
 * QoS 0 semantics of the service publish, with no ordering guarantee beyond one process.
 */
import type { Aedes, Client } from 'aedes';
import { presenceTopic } from '../../../contracts';
import { errorText } from '../../common';
import { internals } from '../aedes-internals';
import { type BrokerContext, certShort } from '../context';
import { Refusal } from '../errors';

/** AWS disconnectReason values this broker produces. */
export type DisconnectReason =
  | 'CLIENT_INITIATED_DISCONNECT'
  | 'CONNECTION_LOST'
  | 'DUPLICATE_CLIENTID'
  | 'FORBIDDEN_ACCESS'
  | 'CLIENT_ERROR'
  | 'MQTT_KEEP_ALIVE_TIMEOUT'
  | 'SERVER_INITIATED_DISCONNECT'
  | 'AUTH_ERROR';

export interface SessionFacts {
  readonly clientId: string;
  readonly sessionIdentifier: string;
  readonly principalIdentifier: string;
  readonly ipAddress?: string;
  readonly versionNumber: number;
}

export interface ConnectedEvent {
  readonly clientId: string;
  readonly timestamp: number;
  readonly eventType: 'connected';
  readonly sessionIdentifier: string;
  readonly principalIdentifier: string;
  readonly ipAddress?: string;
  readonly versionNumber: number;
}

export interface DisconnectedEvent {
  readonly clientId: string;
  readonly timestamp: number;
  readonly eventType: 'disconnected';
  readonly clientInitiatedDisconnect: boolean;
  readonly sessionIdentifier: string;
  readonly principalIdentifier: string;
  readonly disconnectReason: DisconnectReason;
  readonly versionNumber: number;
}

export function connectedEvent(session: SessionFacts, now = Date.now()): ConnectedEvent {
  return {
    clientId: session.clientId,
    timestamp: now,
    eventType: 'connected',
    sessionIdentifier: session.sessionIdentifier,
    principalIdentifier: session.principalIdentifier,
    ...(session.ipAddress ? { ipAddress: session.ipAddress } : {}),
    versionNumber: session.versionNumber,
  };
}

export function disconnectedEvent(
  session: SessionFacts,
  reason: DisconnectReason,
  now = Date.now(),
): DisconnectedEvent {
  return {
    clientId: session.clientId,
    timestamp: now,
    eventType: 'disconnected',
    clientInitiatedDisconnect: reason === 'CLIENT_INITIATED_DISCONNECT',
    sessionIdentifier: session.sessionIdentifier,
    principalIdentifier: session.principalIdentifier,
    disconnectReason: reason,
    versionNumber: session.versionNumber,
  };
}

/**
 * Publishes the connected event once a session reaches CONNACK and the disconnected event
 * when it ends, and records the reasons aedes reports on the way (client error, keep-alive
 * timeout); an MQTT DISCONNECT makes CLIENT_INITIATED_DISCONNECT, anything else
 * CONNECTION_LOST.
 */
export function watchPresence(aedes: Aedes, ctx: BrokerContext): void {
  const { log, sessions } = ctx;
  const publish = (topic: string, payload: object) =>
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
    publish(presenceTopic('connected', session.clientId), connectedEvent(session));
  });
  aedes.on('clientDisconnect', (client: Client) => {
    const session = sessions.get(client);
    if (!session) return;
    sessions.remove(session);
    if (!session.announced) return;
    const reason =
      session.reason ?? (internals(client)._disconnected ? 'CLIENT_INITIATED_DISCONNECT' : 'CONNECTION_LOST');
    log.info(`client '${session.clientId}' disconnected: ${reason}`);
    publish(presenceTopic('disconnected', session.clientId), disconnectedEvent(session, reason));
  });
}
