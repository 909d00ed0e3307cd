/**
 * How local services use the message broker, as AWS services use IoT Core's: the shadow
 * service subscribes to `$aws/things/+/shadow/...`, the rules engine sees every publish, the
 * data-plane Publish API and rule republish actions publish as the service.
 */

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
}
