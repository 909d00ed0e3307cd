/**
 * The parts of an aedes client that the broker reads but aedes does not type: the TLS socket
 * (for the client certificate), the flag an MQTT DISCONNECT sets, and the packet parser (to
 * see a whole SUBSCRIBE packet before aedes splits it).
 */
import type { TLSSocket } from 'node:tls';
import type { Client } from 'aedes';

interface ClientInternals {
  conn: TLSSocket;
  /** The client's subscriptions by topic filter. */
  subscriptions?: Record<string, { qos?: number }>;
  _disconnected?: boolean;
  _parser?: { prependListener(event: 'packet', fn: (packet: unknown) => void): void };
}

export const internals = (client: Client) => client as unknown as ClientInternals;
