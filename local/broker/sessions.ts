/**
 * The broker's live sessions: one per authenticated MQTT connection, found by its aedes client
 * or by its certificate (a revoked certificate closes all of its sessions), with the count of
 * connections per client id that lifecycle events carry as versionNumber.
 */
import type { Client } from 'aedes';
import type { DisconnectReason, SessionFacts } from './hooks/presence';
import type { ConnectedClient } from './types';

export interface Session extends SessionFacts {
  readonly certificateId: string;
  readonly thingName?: string;
  readonly certificateArn: string;
  readonly client: Client;
  /** Why the connection ended, when the broker knows better than the socket does. */
  reason?: DisconnectReason;
  /** Whether this session reached CONNACK and so produces a disconnected event. */
  announced: boolean;
}

export class SessionRegistry {
  private readonly byClient = new WeakMap<Client, Session>();
  private readonly byCertificate = new Map<string, Set<Session>>();
  private readonly connectionCounts = new Map<string, number>();

  get(client: Client): Session | undefined {
    return this.byClient.get(client);
  }

  /** The versionNumber the next connection of this client id gets. */
  nextVersion(clientId: string): number {
    return (this.connectionCounts.get(clientId) ?? 0) + 1;
  }

  add(session: Session): void {
    this.connectionCounts.set(session.clientId, session.versionNumber);
    this.byClient.set(session.client, session);
    let set = this.byCertificate.get(session.certificateId);
    if (!set) {
      set = new Set();
      this.byCertificate.set(session.certificateId, set);
    }
    set.add(session);
  }

  /** Forgets a closed session for its certificate (the client map forgets it by itself). */
  remove(session: Session): void {
    this.byCertificate.get(session.certificateId)?.delete(session);
  }

  ofCertificate(certificateId: string): Iterable<Session> {
    return this.byCertificate.get(certificateId) ?? [];
  }

  /** Sessions that reached CONNACK. */
  connected(): ConnectedClient[] {
    const out: ConnectedClient[] = [];
    for (const set of this.byCertificate.values()) {
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
  }
}
