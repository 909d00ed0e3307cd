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
  /** The IP address the publisher connected from (the rules engine's sourceip()). */
  readonly sourceIp?: string;
}

export type MessageHandler = (message: BrokerMessage) => void | Promise<void>;

export interface MessageBus {
  /**
   * Publishes as a trusted service: no IoT policy applies to the publisher, but each
   * subscriber still needs iot:Receive on the topic. Resolves once the broker has taken it.
   */
  publish(message: { topic: string; payload: Buffer | string; qos?: 0 | 1; retain?: boolean }): Promise<void>;
  /**
   * Sees every message that matches an MQTT topic filter (`+`, `#`), including reserved `$aws/...`
   * topics, after the publisher's policy allowed it. Returns an unsubscribe function.
   */
  subscribe(filter: string, handler: MessageHandler): () => void;
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

export interface BrokerService extends MessageBus {
  readonly port: number;
  readonly host: string;
  connectedClients(): ConnectedClient[];
  close(): Promise<void>;
}
