/**
 * aedes persistence that survives a restart: aedes-persistence's in-memory implementation does
 * the work, and a mirror of its durable state (retained messages, subscriptions of persistent
 * sessions, queued QoS 1 messages) is written to one JSON file after every change.
 *
 * AWS IoT keeps retained messages and persistent sessions durably (developer guide, "MQTT
 * retained messages" and "MQTT persistent sessions"); this follows that within one state dir.
 *
 * The file is a StateFile (../common/state-file): written atomically with a last-good copy and
 * checked against its schema when read; a damaged file falls back to the last-good copy, or
 * starts empty (losing retained messages and persistent sessions, which the log says).
 * `whenSaved()` tells the journal when a change (a message queued for an offline session) is on
 * disk; a write the disk refuses is tried again every second until it succeeds.
 *
 * LIMITATIONS versus AWS: the file is rewritten whole once per event-loop turn in which
 * something changed, so it suits a laptop's message rates, not bulk traffic. Will messages and
 * inbound QoS 2 state are not persisted (AWS does not support QoS 2). AWS expires persistent
 * sessions after one hour by default; here they last until the client connects with clean
 * session true.
 */
import MemoryPersistence from 'aedes-persistence/asyncPersistence.js';
import { QlobberDedup } from 'qlobber';
import { z } from 'zod';
import { type LocalLogger, StateFile } from '../common';

const StoredPacketSchema = z.object({
  topic: z.string().min(1),
  /** base64 */
  payload: z.string(),
  qos: z.number().int().min(0).max(2),
  retain: z.boolean(),
  brokerId: z.string().optional(),
  brokerCounter: z.number().optional(),
});
type StoredPacket = z.infer<typeof StoredPacketSchema>;

const StoredSubscriptionSchema = z.object({
  topic: z.string().min(1),
  qos: z.number().int().min(0).max(2),
  rh: z.number().optional(),
  rap: z.boolean().optional(),
  nl: z.boolean().optional(),
});
type StoredSubscription = z.infer<typeof StoredSubscriptionSchema>;

const StoredStateSchema = z.object({
  version: z.literal(1),
  retained: z.array(StoredPacketSchema),
  subscriptions: z.record(z.string(), z.array(StoredSubscriptionSchema)),
  outgoing: z.record(z.string(), z.array(StoredPacketSchema)),
});
type StoredState = z.infer<typeof StoredStateSchema>;

/** How long to wait before writing again after the disk refused a write. */
const SAVE_RETRY_MS = 1_000;

/** The packet fields this module reads; aedes passes aedes-packet objects. */
interface PacketLike {
  topic: string;
  payload: Buffer | string;
  qos: number;
  retain?: boolean;
  brokerId?: string;
  brokerCounter?: number;
  messageId?: number;
}

interface OutgoingEntry {
  packet: StoredPacket;
  messageId?: number;
}

const toStored = (p: PacketLike): StoredPacket => ({
  topic: p.topic,
  payload: Buffer.from(p.payload ?? '').toString('base64'),
  qos: p.qos,
  retain: p.retain ?? false,
  ...(p.brokerId !== undefined ? { brokerId: p.brokerId } : {}),
  ...(p.brokerCounter !== undefined ? { brokerCounter: p.brokerCounter } : {}),
});

const fromStored = (p: StoredPacket) => ({
  cmd: 'publish' as const,
  topic: p.topic,
  payload: Buffer.from(p.payload, 'base64'),
  qos: p.qos,
  retain: p.retain,
  dup: false,
  brokerId: p.brokerId,
  brokerCounter: p.brokerCounter,
});

/** The methods of aedes-persistence's in-memory class that this module extends or calls. */
interface MemoryBase {
  setup(broker: unknown): Promise<void>;
  storeRetained(packet: PacketLike): Promise<void>;
  addSubscriptions(client: { id: string }, subs: StoredSubscription[]): Promise<void>;
  removeSubscriptions(client: { id: string }, topics: string[]): Promise<void>;
  cleanSubscriptions(client: { id: string }): Promise<void>;
  outgoingEnqueue(sub: { clientId: string }, packet: PacketLike): Promise<void>;
  outgoingEnqueueCombi(subs: Array<{ clientId: string }>, packet: PacketLike): Promise<void>;
  outgoingUpdate(client: { id: string }, packet: PacketLike): Promise<void>;
  outgoingClearMessageId(client: { id: string }, packet: PacketLike): Promise<unknown>;
  destroy(): Promise<void>;
}
const Base = MemoryPersistence as new () => MemoryBase;

export class FilePersistence extends Base {
  private readonly file: StateFile<StoredState>;
  private readonly retained = new Map<string, StoredPacket>();
  private readonly subscriptions = new Map<string, Map<string, StoredSubscription>>();
  private readonly outgoing = new Map<string, OutgoingEntry[]>();
  /** The topic filters of persistent sessions, with the client ids subscribed to each. */
  private readonly persistentFilters = new QlobberDedup<string>({
    separator: '/',
    wildcard_one: '+',
    wildcard_some: '#',
  });
  private saveScheduled: NodeJS.Immediate | NodeJS.Timeout | undefined;
  private savedWaiters: Array<() => void> = [];
  private failing = false;
  private stopped = false;

  constructor(
    path: string,
    private readonly logger: LocalLogger,
  ) {
    super();
    this.file = StateFile.open<StoredState>({
      path,
      schema: StoredStateSchema,
      initial: () => ({ version: 1, retained: [], subscriptions: {}, outgoing: {} }),
      what: 'the retained messages and persistent sessions of the broker',
      logger,
      whenUnusable: 'start-empty',
    });
  }

  override async setup(broker: unknown): Promise<void> {
    await super.setup(broker);
    const state = this.file.value;
    for (const p of state.retained) {
      await super.storeRetained(fromStored(p));
      this.retained.set(p.topic, p);
    }
    for (const [clientId, subs] of Object.entries(state.subscriptions)) {
      await super.addSubscriptions({ id: clientId }, subs);
      this.subscriptions.set(clientId, new Map(subs.map((s) => [s.topic, s])));
      for (const s of subs) this.persistentFilters.add(s.topic, clientId);
    }
    for (const [clientId, packets] of Object.entries(state.outgoing)) {
      for (const p of packets) {
        await super.outgoingEnqueue({ clientId }, fromStored(p));
        this.queue(clientId).push({ packet: p });
      }
    }
  }

  override async storeRetained(packet: PacketLike): Promise<void> {
    await super.storeRetained(packet);
    if (Buffer.from(packet.payload ?? '').length === 0) this.retained.delete(packet.topic);
    else this.retained.set(packet.topic, toStored(packet));
    this.changed();
  }

  override async addSubscriptions(client: { id: string }, subs: StoredSubscription[]): Promise<void> {
    await super.addSubscriptions(client, subs);
    const stored = this.subscriptions.get(client.id) ?? new Map<string, StoredSubscription>();
    for (const s of subs) {
      stored.set(s.topic, { topic: s.topic, qos: s.qos, rh: s.rh, rap: s.rap, nl: s.nl });
      this.persistentFilters.add(s.topic, client.id);
    }
    this.subscriptions.set(client.id, stored);
    this.changed();
  }

  override async removeSubscriptions(client: { id: string }, topics: string[]): Promise<void> {
    await super.removeSubscriptions(client, topics);
    const stored = this.subscriptions.get(client.id);
    if (stored) {
      for (const t of topics) {
        if (stored.delete(t)) this.persistentFilters.remove(t, client.id);
      }
      if (stored.size === 0) this.subscriptions.delete(client.id);
    }
    this.changed();
  }

  override async cleanSubscriptions(client: { id: string }): Promise<void> {
    await super.cleanSubscriptions(client);
    // aedes calls this on every clean-session CONNECT; most clients never had a persistent
    // session, and rewriting the file for them would cost a write and an fsync per connect.
    // aedes itself drains the old queue of a client that reconnects with a clean session.
    const stored = this.subscriptions.get(client.id);
    if (!stored) return;
    for (const t of stored.keys()) this.persistentFilters.remove(t, client.id);
    this.subscriptions.delete(client.id);
    this.changed();
  }

  /**
   * Whether a persistent session subscribes to `topic`: a QoS 1 message on it may be queued
   * for that session, so the broker journals it. `#` and `+` are matched as written, also at
   * the first level of a `$` topic, where MQTT would not: that journals a message more, never
   * one less.
   */
  hasPersistentSubscriber(topic: string): boolean {
    for (const _ of this.persistentFilters.match_iter(topic)) return true;
    return false;
  }

  override async outgoingEnqueue(sub: { clientId: string }, packet: PacketLike): Promise<void> {
    await super.outgoingEnqueue(sub, packet);
    this.queue(sub.clientId).push({ packet: toStored(packet) });
    this.changed();
  }

  override async outgoingEnqueueCombi(subs: Array<{ clientId: string }>, packet: PacketLike): Promise<void> {
    await super.outgoingEnqueueCombi(subs, packet);
    // aedes calls this for every QoS 1 publish, mostly with no offline session to queue for
    if (subs.length === 0) return;
    const stored = toStored(packet);
    for (const s of subs) this.queue(s.clientId).push({ packet: stored });
    this.changed();
  }

  /** Mirrors the in-memory implementation's matching rules exactly. */
  override async outgoingUpdate(client: { id: string }, packet: PacketLike): Promise<void> {
    await super.outgoingUpdate(client, packet);
    const queue = this.queue(client.id);
    for (let i = 0; i < queue.length; i++) {
      const entry = queue[i]!;
      if (entry.packet.brokerId === packet.brokerId) {
        if (entry.packet.brokerCounter === packet.brokerCounter) {
          entry.messageId = packet.messageId;
          break;
        }
      } else if (entry.messageId === packet.messageId) {
        queue[i] = { packet: toStored(packet), messageId: packet.messageId };
        break;
      }
    }
    this.changed();
  }

  override async outgoingClearMessageId(client: { id: string }, packet: PacketLike): Promise<unknown> {
    const removed = await super.outgoingClearMessageId(client, packet);
    const queue = this.queue(client.id);
    const i = queue.findIndex((e) => e.messageId === packet.messageId);
    if (i >= 0) {
      queue.splice(i, 1);
      this.changed();
    }
    return removed;
  }

  /** Resolves once every change made so far is on disk. */
  whenSaved(): Promise<void> {
    if (!this.saveScheduled) return Promise.resolve();
    return new Promise<void>((resolve) => this.savedWaiters.push(resolve));
  }

  /** Writes pending changes now; called by the broker's close(). */
  flush(): void {
    if (this.saveScheduled) {
      clearImmediate(this.saveScheduled as NodeJS.Immediate);
      clearTimeout(this.saveScheduled as NodeJS.Timeout);
      this.saveScheduled = undefined;
    }
    this.save();
    this.stopped = true;
  }

  override async destroy(): Promise<void> {
    if (!this.stopped) this.flush();
    await super.destroy();
  }

  private queue(clientId: string): OutgoingEntry[] {
    let q = this.outgoing.get(clientId);
    if (!q) {
      q = [];
      this.outgoing.set(clientId, q);
    }
    return q;
  }

  private changed(): void {
    if (this.saveScheduled || this.stopped) return;
    this.saveScheduled = setImmediate(() => {
      this.saveScheduled = undefined;
      this.save();
    });
  }

  private save(): void {
    const outgoing: Record<string, StoredPacket[]> = {};
    for (const [id, q] of this.outgoing) if (q.length > 0) outgoing[id] = q.map((e) => e.packet);
    const subscriptions: Record<string, StoredSubscription[]> = {};
    for (const [id, m] of this.subscriptions) subscriptions[id] = [...m.values()];
    this.file.value = { version: 1, retained: [...this.retained.values()], subscriptions, outgoing };
    try {
      this.file.save();
    } catch (err) {
      if (!this.failing) {
        this.logger.error(
          `cannot write the broker state ${this.file.path}: ${(err as Error).message}; trying again every ${SAVE_RETRY_MS} ms`,
        );
      }
      this.failing = true;
      if (!this.stopped) {
        this.saveScheduled = setTimeout(() => {
          this.saveScheduled = undefined;
          this.save();
        }, SAVE_RETRY_MS);
      }
      return;
    }
    if (this.failing) this.logger.info(`broker state ${this.file.path} written again`);
    this.failing = false;
    for (const w of this.savedWaiters.splice(0)) w();
  }
}
