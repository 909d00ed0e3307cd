/**
 * How local services use the message broker, as AWS services use IoT Core's: the shadow
 * service subscribes to `$aws/things/+/shadow/...`, the rules engine sees every publish, the
 * data-plane Publish API and rule republish actions publish as the service. Also the broker
 * service's own options and interface.
 */
import type { CloudIdentity, LocalLogger } from '../common';
import type { PolicyCompiler, PrincipalDirectory } from '../iot';

export interface BrokerMessage {
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: 0 | 1;
  readonly retain: boolean;
  /** MQTT client id of the publisher; undefined when a service or the HTTP API published. */
  readonly clientId?: string;
  /** Certificate id (64 hex, the SHA-256 of the DER) of the publisher's certificate. */
  readonly principal?: string;
  /** Thing attached to the publisher's certificate, if any. */
  readonly thingName?: string;
  /** When the broker accepted the message, epoch ms (kept across a restart for a journaled one). */
  readonly receivedAt: number;
  /** How many rule republish actions led to this message (0 or absent for a device's). */
  readonly hops?: number;
  /** The IP address the publisher connected from (the rules engine's sourceip()). */
  readonly sourceIp?: string;
}

/** What a service publishes. */
export interface ServiceMessage {
  readonly topic: string;
  readonly payload: Buffer | string;
  readonly qos?: 0 | 1;
  readonly retain?: boolean;
  /** How many rule republish actions led to this message; set by the rules engine. */
  readonly hops?: number;
}

/**
 * Sees a message. A handler that returns a promise is durable: the message is handled once the
 * promise resolves with its effects on disk (until then it stays in the broker's journal and
 * is handed over again after a restart); a rejected promise is retried after a back-off.
 */
export type MessageHandler = (message: BrokerMessage) => void | Promise<void>;

export interface PublishOptions {
  /**
   * Holds the message once it is journaled, unpublished, until this settles: true publishes it,
   * false or a rejection withdraws it (marked done, seen by no one). A service journals its
   * announcement of a change this way while the change itself is being written, and releases
   * it once the change is on disk; `guardReplay` decides about one left held by a crash.
   */
  readonly until?: Promise<boolean>;
}

export interface SubscribeOptions {
  /**
   * Whether the handler would act durably on a message on this topic (default: on every
   * message the filter matches). The broker journals a QoS 1 message only when a crash could
   * take it from someone: an observer that would act on it, a persistent session subscribed to
   * it, or a retained message. The rules engine, which sees every topic, answers with its
   * rules' topic filters.
   */
  readonly actsOn?: (topic: string) => boolean;
}

export interface MessageBus {
  /**
   * Publishes as a trusted service: no IoT policy applies to the publisher, but each
   * subscriber still needs iot:Receive on the topic. Resolves once the broker has taken it; a
   * QoS 1 message is then in the broker's journal, on disk.
   */
  publish(message: ServiceMessage, options?: PublishOptions): Promise<void>;
  /**
   * Screens the journaled messages on topics matching `filter` as they are handed over again
   * after a restart: one for which `keep` returns false is marked done instead. A service that
   * publishes with `until` says this way whether what the message announces was stored.
   * Returns a function that removes the guard.
   */
  guardReplay(filter: string, keep: (message: BrokerMessage) => boolean): () => void;
  /**
   * Sees every message that matches an MQTT topic filter (`+`, `#`), including reserved `$aws/...`
   * topics, after the publisher's policy allowed it. Returns an unsubscribe function.
   */
  subscribe(filter: string, handler: MessageHandler, options?: SubscribeOptions): () => void;
  /**
   * Publishes to one connected client only, as AWS IoT answers a request on a reserved topic
   * (the provisioning API replies "only on the same MQTT connection that published the
   * request"). Delivered when that client is connected and subscribed to a filter that matches
   * the topic, and its policy allows iot:Receive; resolves to whether it was delivered.
   */
  publishTo(
    clientId: string,
    message: { topic: string; payload: Buffer | string; qos?: 0 | 1 },
  ): Promise<boolean>;
}

export interface BrokerTlsOptions {
  /** The broker's server key and certificate, issued by the local CA. */
  readonly keyPem: string;
  readonly certPem: string;
  /** The CA whose signature a client certificate must carry. */
  readonly caPem: string;
}

export interface BrokerServiceOptions {
  /** Interface to listen on; default 127.0.0.1. */
  readonly host?: string;
  /** TCP port; 0 picks a free one. */
  readonly port: number;
  readonly tls: BrokerTlsOptions;
  readonly directory: PrincipalDirectory;
  /** Compiles a principal's policies for its sessions' checks (local/iot `compilePolicies`). */
  readonly compile: PolicyCompiler;
  readonly identity?: CloudIdentity;
  /** Retained messages, persistent sessions and the inbound journal live in `<stateDir>/broker/`. */
  readonly stateDir: string;
  readonly logger: LocalLogger;
  /** Journaled messages waiting for their services before PUBACKs are held; default 10,000. */
  readonly maxPendingMessages?: number;
  /** A TLS handshake not finished within this is dropped; default 20 s. */
  readonly handshakeTimeoutMs?: number;
  /** A TLS connection whose MQTT CONNECT has not arrived within this is dropped; default 20 s. */
  readonly connectTimeoutMs?: number;
}

export interface ConnectedClient {
  readonly clientId: string;
  readonly certificateId: string;
  readonly thingName?: string;
  readonly sessionIdentifier: string;
}

export interface BrokerService extends MessageBus {
  readonly port: number;
  readonly host: string;
  connectedClients(): ConnectedClient[];
  /**
   * Opens the broker to devices; call once every service has subscribed. First hands the
   * messages journaled before the last stop or crash, and not yet handled, to the observers
   * again; then serves the device connections. Until then a device's TLS handshake completes
   * but its CONNECT waits unread, so no message a device publishes reaches the bus before the
   * services that act on it listen. Returns how many journaled messages it handed over.
   */
  open(): number;
  /** QoS 1 messages accepted and not yet handled by every durable observer. */
  pendingMessages(): number;
  /** Stops accepting connections and closes the live ones; the bus keeps serving services. */
  stopAccepting(): Promise<void>;
  /**
   * Waits up to `timeoutMs` for the journaled messages to be handled; returns how many are
   * still waiting (they stay in the journal and are handed over after the next start).
   */
  drain(timeoutMs: number): Promise<number>;
  close(): Promise<void>;
}
