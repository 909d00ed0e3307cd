/**
 * The feed the other local services read, as AWS services sit behind IoT Core's broker: every
 * message the broker accepted (from a client whose policy allowed it, or from a service) goes
 * to the observers whose topic filter matches, with the publisher's client id, certificate
 * id and thing. The rules engine observes `#` and `$aws/#`; the shadow service its reserved
 * topics. An observer that fails is logged and never stops delivery to the others.
 */
import type { AedesOptions } from 'aedes';
import { errorText, type LocalLogger } from '../../common';
import type { SessionRegistry } from '../sessions';
import { topicMatches } from '../topics';
import type { BrokerMessage, MessageHandler } from '../types';

interface Observer {
  readonly filter: string;
  readonly handler: MessageHandler;
}

export class Observers {
  private readonly observers = new Set<Observer>();

  constructor(private readonly log: LocalLogger) {}

  /** Adds an observer; returns the function that removes it. */
  add(filter: string, handler: MessageHandler): () => void {
    const observer: Observer = { filter, handler };
    this.observers.add(observer);
    return () => {
      this.observers.delete(observer);
    };
  }

  clear(): void {
    this.observers.clear();
  }

  dispatch(message: BrokerMessage): void {
    for (const observer of this.observers) {
      if (!topicMatches(observer.filter, message.topic)) continue;
      const failed = (err: unknown) =>
        this.log.error(`observer of '${observer.filter}' failed on '${message.topic}': ${errorText(err)}`);
      try {
        const result = observer.handler(message);
        if (result && typeof (result as Promise<void>).catch === 'function') {
          (result as Promise<void>).catch(failed);
        }
      } catch (err) {
        failed(err);
      }
    }
  }
}

export function publishedHook(
  sessions: SessionRegistry,
  observers: Observers,
): NonNullable<AedesOptions['published']> {
  return (packet, client, callback) => {
    callback(null);
    if (packet.topic.startsWith('$SYS/')) return;
    const session = client ? sessions.get(client) : undefined;
    observers.dispatch({
      topic: packet.topic,
      payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload ?? ''),
      qos: packet.qos === 0 ? 0 : 1,
      retain: packet.retain,
      ...(session
        ? {
            clientId: session.clientId,
            principal: session.certificateId,
            ...(session.thingName ? { thingName: session.thingName } : {}),
            ...(session.ipAddress ? { sourceIp: session.ipAddress.replace(/^::ffff:/, '') } : {}),
          }
        : {}),
    });
  };
}
