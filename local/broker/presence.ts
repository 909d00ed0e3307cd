/**
 * Lifecycle event payloads (AWS IoT Core developer guide, "Lifecycle events": connect and
 * disconnect events on `$aws/events/presence/connected|disconnected/<clientId>`).
 *
 * LIMITATIONS versus AWS: `versionNumber` counts connections per client id since the broker
 * started (AWS keeps it across its fleet for about an hour); events are published once, at
 * QoS 0 semantics of the service publish, with no ordering guarantee beyond one process.
 */

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
