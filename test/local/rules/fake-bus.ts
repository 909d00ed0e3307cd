import type {
  BrokerMessage,
  MessageBus,
  MessageHandler,
  PublishOptions,
  ServiceMessage,
  SubscribeOptions,
} from '../../../local/broker/types';
import { topicMatches } from '../../../local/common';

/**
 * An in-memory MessageBus (the interface in local/broker/types.ts): delivers each publish
 * asynchronously to every subscription whose MQTT filter matches, as the broker would. Like the
 * broker, it does not wait for durable handlers (those returning a promise) before the publish
 * returns; `handled` holds their promises, so tests can see when a message is done.
 */
export class FakeBus implements MessageBus {
  readonly published: BrokerMessage[] = [];
  /** One entry per delivered message: resolves once every durable handler is done with it. */
  readonly handled: Promise<void>[] = [];
  private readonly subs = new Set<{ filter: string; handler: MessageHandler; options?: SubscribeOptions }>();

  async publish(message: ServiceMessage, options?: PublishOptions): Promise<void> {
    if (options?.until && !(await options.until.catch(() => false))) return;
    const full: BrokerMessage = {
      topic: message.topic,
      payload: Buffer.isBuffer(message.payload) ? message.payload : Buffer.from(message.payload),
      qos: message.qos ?? 0,
      retain: message.retain ?? false,
      receivedAt: Date.now(),
      ...(message.hops ? { hops: message.hops } : {}),
    };
    return this.deliver(full);
  }

  /** Nothing is journaled here, so nothing is handed over again. */
  guardReplay(): () => void {
    return () => {};
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
      receivedAt: Date.now(),
    });
  }

  /** Messages sent to one client (the rules engine never does this). */
  readonly direct: Array<{ clientId: string; topic: string }> = [];

  async publishTo(clientId: string, message: { topic: string }): Promise<boolean> {
    this.direct.push({ clientId, topic: message.topic });
    return false;
  }

  subscribe(filter: string, handler: MessageHandler, options?: SubscribeOptions): () => void {
    const sub = { filter, handler, ...(options ? { options } : {}) };
    this.subs.add(sub);
    return () => this.subs.delete(sub);
  }

  /** Whether a subscriber would act on a message on `topic`, as the broker asks before journaling. */
  actsOn(topic: string): boolean {
    return [...this.subs].some((s) => topicMatches(s.filter, topic) && (s.options?.actsOn?.(topic) ?? true));
  }

  get subscriptionCount(): number {
    return this.subs.size;
  }

  private async deliver(message: BrokerMessage): Promise<void> {
    this.published.push(message);
    await Promise.resolve();
    const durable: Promise<void>[] = [];
    for (const s of [...this.subs]) {
      if (!topicMatches(s.filter, message.topic)) continue;
      const result = s.handler(message);
      if (result) durable.push(result);
    }
    this.handled.push(Promise.all(durable).then(() => undefined));
  }
}
