import type { BrokerMessage, MessageBus, MessageHandler } from '../../../local/broker/types';
import { topicMatches } from '../../../local/rules/sql';

/**
 * An in-memory MessageBus (the interface in local/broker/types.ts): delivers each publish
 * asynchronously to every subscription whose MQTT filter matches, as the broker would.
 */
export class FakeBus implements MessageBus {
  readonly published: BrokerMessage[] = [];
  private readonly subs = new Set<{ filter: string; handler: MessageHandler }>();

  publish(message: {
    topic: string;
    payload: Buffer | string;
    qos?: 0 | 1;
    retain?: boolean;
  }): Promise<void> {
    const full: BrokerMessage = {
      topic: message.topic,
      payload: Buffer.isBuffer(message.payload) ? message.payload : Buffer.from(message.payload),
      qos: message.qos ?? 0,
      retain: message.retain ?? false,
    };
    return this.deliver(full);
  }

  /** A device publish, with its client id and certificate. */
  fromDevice(topic: string, payload: unknown, clientId = 'sensor-07'): Promise<void> {
    const bytes = Buffer.isBuffer(payload) ? payload : Buffer.from(JSON.stringify(payload));
    return this.deliver({
      topic,
      payload: bytes,
      qos: 1,
      retain: false,
      clientId,
      principal: 'c'.repeat(64),
    });
  }

  /** Messages sent to one client (the rules engine never does this). */
  readonly direct: Array<{ clientId: string; topic: string }> = [];

  async publishTo(clientId: string, message: { topic: string }): Promise<boolean> {
    this.direct.push({ clientId, topic: message.topic });
    return false;
  }

  subscribe(filter: string, handler: MessageHandler): () => void {
    const sub = { filter, handler };
    this.subs.add(sub);
    return () => this.subs.delete(sub);
  }

  get subscriptionCount(): number {
    return this.subs.size;
  }

  private async deliver(message: BrokerMessage): Promise<void> {
    this.published.push(message);
    await Promise.resolve();
    for (const s of [...this.subs]) if (topicMatches(s.filter, message.topic)) await s.handler(message);
  }
}
