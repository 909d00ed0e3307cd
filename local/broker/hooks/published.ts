/**
 * The feed the other local services read, as AWS services sit behind IoT Core's broker: every
 * message the broker accepted (from a client whose policy allowed it, or from a service) goes
 * to the observers whose topic filter matches, with the publisher's client id, certificate
 * id and thing. The rules engine observes `#` and `$aws/#`; the shadow service its reserved
 * topics. An observer that fails is logged and never stops delivery to the others.
 *
 * An observer that returns a promise is durable: the message counts as handled by it only
 * when the promise resolves (its effects are on disk). A rejected promise is logged and the
 * observer is given the message again after a back-off (1 s doubling to 30 s), until it
 * succeeds or the broker stops; the message then stays in the inbound journal and is handed
 * over again after the next start.
 */
import type { AedesOptions } from 'aedes';
import { compileTopicFilter, errorText, type LocalLogger, type TopicMatcher } from '../../common';
import type { JournaledMessage } from '../journal';
import type { SessionRegistry } from '../sessions';
import type { BrokerMessage, MessageHandler } from '../types';

interface Observer {
  readonly filter: string;
  readonly matches: TopicMatcher;
  readonly handler: MessageHandler;
  readonly actsOn?: (topic: string) => boolean;
}

/** The journal entry of a packet, attached by the publish paths before aedes sees it. */
export const JOURNALED = Symbol('journaled');
export type JournaledPacket = { [JOURNALED]?: JournaledMessage; hops?: number };

const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 30_000;

export class Observers {
  private readonly observers = new Set<Observer>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(private readonly log: LocalLogger) {}

  /** Adds an observer; returns the function that removes it. */
  add(filter: string, handler: MessageHandler, actsOn?: (topic: string) => boolean): () => void {
    const observer: Observer = {
      filter,
      matches: compileTopicFilter(filter),
      handler,
      ...(actsOn ? { actsOn } : {}),
    };
    this.observers.add(observer);
    return () => {
      this.observers.delete(observer);
    };
  }

  clear(): void {
    this.stopped = true;
    this.observers.clear();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  /** Whether an observer would act on a message on `topic` (see SubscribeOptions.actsOn). */
  actOn(topic: string): boolean {
    for (const observer of this.observers) {
      if (observer.matches(topic) && (observer.actsOn?.(topic) ?? true)) return true;
    }
    return false;
  }

  /** Hands the message to every matching observer; resolves when the durable ones are done. */
  dispatch(message: BrokerMessage): Promise<void> {
    const durable: Promise<void>[] = [];
    for (const observer of this.observers) {
      if (!observer.matches(message.topic)) continue;
      const result = this.run(observer, message, 0);
      if (result) durable.push(result);
    }
    if (durable.length === 0) return Promise.resolve();
    return Promise.all(durable).then(() => undefined);
  }

  /** Runs one observer; returns a promise when it is durable, resolved once it succeeded. */
  private run(observer: Observer, message: BrokerMessage, attempt: number): Promise<void> | undefined {
    let result: void | Promise<void>;
    try {
      result = observer.handler(message);
    } catch (err) {
      this.log.error(`observer of '${observer.filter}' failed on '${message.topic}': ${errorText(err)}`);
      return undefined;
    }
    if (!result || typeof (result as Promise<void>).then !== 'function') return undefined;
    return (result as Promise<void>).catch((err: unknown) => {
      const delay = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** attempt);
      this.log.error(
        `observer of '${observer.filter}' failed on '${message.topic}': ${errorText(err)}; trying again in ${delay} ms`,
      );
      return new Promise<void>((resolve) => {
        if (this.stopped || !this.observers.has(observer)) return; // left for the next start
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          if (this.stopped || !this.observers.has(observer)) return;
          const again = this.run(observer, message, attempt + 1);
          if (again) again.then(resolve);
          else resolve();
        }, delay);
        this.timers.add(timer);
      });
    });
  }
}

/** The message the observers see: from the journal entry when there is one, else from the session. */
export function brokerMessageOf(
  packet: { topic: string; payload: Buffer | string; qos: number; retain: boolean } & JournaledPacket,
  session: { clientId: string; certificateId: string; thingName?: string; ipAddress?: string } | undefined,
): BrokerMessage {
  const journaled = packet[JOURNALED];
  if (journaled) {
    return {
      topic: journaled.topic,
      payload: journaled.payload,
      qos: journaled.qos,
      retain: journaled.retain,
      receivedAt: journaled.receivedAt,
      ...(journaled.clientId !== undefined ? { clientId: journaled.clientId } : {}),
      ...(journaled.principal !== undefined ? { principal: journaled.principal } : {}),
      ...(journaled.thingName !== undefined ? { thingName: journaled.thingName } : {}),
      ...(journaled.sourceIp !== undefined ? { sourceIp: journaled.sourceIp } : {}),
      ...(journaled.hops ? { hops: journaled.hops } : {}),
    };
  }
  return {
    topic: packet.topic,
    payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload ?? ''),
    qos: packet.qos === 0 ? 0 : 1,
    retain: packet.retain,
    receivedAt: Date.now(),
    ...(packet.hops ? { hops: packet.hops } : {}),
    ...(session
      ? {
          clientId: session.clientId,
          principal: session.certificateId,
          ...(session.thingName ? { thingName: session.thingName } : {}),
          ...(session.ipAddress ? { sourceIp: sourceIpOf(session.ipAddress) } : {}),
        }
      : {}),
  };
}

/** The client's IPv4 address as `sourceip()` gives it, without the IPv4-mapped IPv6 prefix. */
export const sourceIpOf = (address: string) => address.replace(/^::ffff:/, '');

/**
 * aedes' `published` hook: feeds the observers and, for a journaled message, marks it done in
 * the journal once the durable observers and the broker's own persistence (offline queues of
 * persistent sessions, retained messages) have it on disk.
 */
export function publishedHook(
  sessions: SessionRegistry,
  observers: Observers,
  settled: (journaled: JournaledMessage, handled: Promise<void>) => void,
): NonNullable<AedesOptions['published']> {
  return (packet, client, callback) => {
    callback(null);
    if (packet.topic.startsWith('$SYS/')) return;
    const session = client ? sessions.get(client) : undefined;
    const p = packet as typeof packet & JournaledPacket;
    const handled = observers.dispatch(brokerMessageOf(p, session));
    const journaled = p[JOURNALED];
    if (journaled) settled(journaled, handled);
  };
}
