/**
 * The IoT registry's persistence, at a cost per change that does not grow with the fleet: the
 * registry lives in memory, indexed; each change (a thing, policy, certificate, attachment,
 * topic rule or endpoint put or removed) is one record appended to `<stateDir>/iot/registry.log`
 * (an AppendLog: group commit, checksums, quarantine), and now and then the whole registry is
 * written to `<stateDir>/iot/registry.json` as a checkpoint and the log drops what the previous
 * checkpoint already held. Opening reads the checkpoint and applies the log records that came
 * after it (each carries a sequence number, so nothing applies twice).
 *
 * `durable()` resolves once every change made so far is on disk; the `iot` API answers after
 * it, so an acknowledged change survives a crash. The checkpoint is a StateFile: written
 * atomically with a last-good copy, checked against its schema; a damaged checkpoint falls back
 * to the last-good one, and the log still holds every change since that one, so nothing is
 * lost; with neither, the cloud refuses to start rather than forget the fleet.
 *
 * Lookups the broker makes on every check are indexed: the things and policies of a principal,
 * the principals of a thing, the targets of a policy.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ENDPOINTS_FILE } from '../../contracts/local-endpoints';
import {
  AppendLog,
  type CloudIdentity,
  errorText,
  iotArn,
  isStorageFailure,
  type LocalLogger,
  StateFile,
  StorageUnavailableError,
} from '../common';
import type { RegistryEvent, StoredCertificate, StoredPolicy, ThingRecord, TopicRuleRecord } from './types';

export const REGISTRY_FILE = 'registry.json';
export const REGISTRY_LOG_FILE = 'registry.log';

export interface ThingPrincipalLink {
  readonly thingName: string;
  readonly principal: string;
  readonly exclusive: boolean;
}

export interface PolicyTargetLink {
  readonly policyName: string;
  readonly target: string;
}

const ThingSchema = z.object({
  thingName: z.string().min(1),
  thingArn: z.string().min(1),
  thingId: z.string().min(1),
  thingTypeName: z.string().optional(),
  attributes: z.record(z.string(), z.string()),
  version: z.number().int(),
});
const PolicySchema = z.object({
  policyName: z.string().min(1),
  policyArn: z.string().min(1),
  policyDocument: z.string(),
  defaultVersionId: z.string(),
  creationDate: z.number(),
  lastModifiedDate: z.number(),
  generationId: z.string(),
});
const CertificateSchema = z.object({
  certificateId: z.string().regex(/^[0-9a-f]{64}$/),
  certificateArn: z.string().min(1),
  certificatePem: z.string().includes('BEGIN CERTIFICATE'),
  status: z.enum(['ACTIVE', 'INACTIVE', 'REVOKED', 'PENDING_TRANSFER', 'PENDING_ACTIVATION']),
  creationDate: z.number(),
  lastModifiedDate: z.number(),
  notBefore: z.number(),
  notAfter: z.number(),
  generationId: z.string(),
});
const RuleSchema = z.object({
  ruleName: z.string().min(1),
  ruleArn: z.string().min(1),
  sql: z.string(),
  description: z.string().optional(),
  actions: z.array(z.record(z.string(), z.unknown())),
  ruleDisabled: z.boolean(),
  awsIotSqlVersion: z.string(),
  errorAction: z.record(z.string(), z.unknown()).optional(),
  createdAt: z.number(),
});
const ThingPrincipalSchema = z.object({
  thingName: z.string().min(1),
  principal: z.string().min(1),
  exclusive: z.boolean(),
});
const PolicyTargetSchema = z.object({ policyName: z.string().min(1), target: z.string().min(1) });

/** The checkpoint document: the registry as a whole, and the last change it includes. */
const SnapshotSchema = z.object({
  things: z.record(z.string(), ThingSchema),
  policies: z.record(z.string(), PolicySchema),
  certificates: z.record(z.string(), CertificateSchema),
  thingPrincipals: z.array(ThingPrincipalSchema),
  policyTargets: z.array(PolicyTargetSchema),
  rules: z.record(z.string(), RuleSchema),
  endpoints: z.record(z.string(), z.string()),
  /** The sequence number of the last change the checkpoint includes (absent: none). */
  seq: z.number().int().nonnegative().optional(),
});
type Snapshot = z.infer<typeof SnapshotSchema>;

/** One change: `v` is the new value; absent, the entry was removed. */
const ChangeSchema = z.discriminatedUnion('k', [
  z.object({ s: z.number().int(), k: z.literal('thing'), id: z.string(), v: ThingSchema.optional() }),
  z.object({ s: z.number().int(), k: z.literal('policy'), id: z.string(), v: PolicySchema.optional() }),
  z.object({
    s: z.number().int(),
    k: z.literal('certificate'),
    id: z.string(),
    v: CertificateSchema.optional(),
  }),
  z.object({ s: z.number().int(), k: z.literal('rule'), id: z.string(), v: RuleSchema.optional() }),
  z.object({ s: z.number().int(), k: z.literal('endpoint'), id: z.string(), v: z.string().optional() }),
  z.object({
    s: z.number().int(),
    k: z.literal('thingPrincipal'),
    id: z.string(),
    v: ThingPrincipalSchema.optional(),
  }),
  z.object({
    s: z.number().int(),
    k: z.literal('policyTarget'),
    id: z.string(),
    v: PolicyTargetSchema.optional(),
  }),
]);
type Change = z.infer<typeof ChangeSchema>;

/** Log records past this count (and past the number of entries) make a checkpoint. */
const CHECKPOINT_MIN_RECORDS = 5_000;
/** How long to wait before writing a change again that the disk refused. */
const WRITE_RETRY_MS = 1_000;

/** A keyed collection of one kind of registry entry; every put and delete is logged. */
export class Table<T> {
  readonly items = new Map<string, T>();
  constructor(private readonly changed: (id: string, value: T | undefined) => void) {}
  get(id: string): T | undefined {
    return this.items.get(id);
  }
  has(id: string): boolean {
    return this.items.has(id);
  }
  values(): T[] {
    return [...this.items.values()];
  }
  get size(): number {
    return this.items.size;
  }
  put(id: string, value: T): void {
    this.items.set(id, value);
    this.changed(id, value);
  }
  delete(id: string): boolean {
    if (!this.items.delete(id)) return false;
    this.changed(id, undefined);
    return true;
  }
}

/**
 * A set of links between two kinds of names (thing and principal, policy and target), indexed
 * both ways, so either side's links are found without a scan.
 */
export class LinkIndex<L> {
  private readonly byLeft = new Map<string, Map<string, L>>();
  private readonly byRight = new Map<string, Map<string, L>>();
  private count = 0;
  constructor(
    private readonly sides: (link: L) => readonly [string, string],
    private readonly changed: (id: string, value: L | undefined) => void,
  ) {}

  static key(left: string, right: string): string {
    return `${left}\n${right}`;
  }

  /** Links of a left-side name (a thing, a policy). */
  ofLeft(left: string): L[] {
    return [...(this.byLeft.get(left)?.values() ?? [])];
  }
  /** Links of a right-side name (a principal, a target). */
  ofRight(right: string): L[] {
    return [...(this.byRight.get(right)?.values() ?? [])];
  }
  get(left: string, right: string): L | undefined {
    return this.byLeft.get(left)?.get(right);
  }
  all(): L[] {
    const out: L[] = [];
    for (const m of this.byLeft.values()) out.push(...m.values());
    return out;
  }
  get size(): number {
    return this.count;
  }

  put(link: L): void {
    this.set(link);
    const [l, r] = this.sides(link);
    this.changed(LinkIndex.key(l, r), link);
  }

  delete(left: string, right: string): boolean {
    if (!this.unset(left, right)) return false;
    this.changed(LinkIndex.key(left, right), undefined);
    return true;
  }

  /** Applies a link without logging it (loading). */
  set(link: L): void {
    const [l, r] = this.sides(link);
    let left = this.byLeft.get(l);
    if (!left) {
      left = new Map();
      this.byLeft.set(l, left);
    }
    if (!left.has(r)) this.count++;
    left.set(r, link);
    let right = this.byRight.get(r);
    if (!right) {
      right = new Map();
      this.byRight.set(r, right);
    }
    right.set(l, link);
  }

  /** Removes a link without logging it (loading). */
  unset(left: string, right: string): boolean {
    const l = this.byLeft.get(left);
    if (!l?.delete(right)) return false;
    this.count--;
    if (l.size === 0) this.byLeft.delete(left);
    const r = this.byRight.get(right);
    r?.delete(left);
    if (r?.size === 0) this.byRight.delete(right);
    return true;
  }
}

export class RegistryStore {
  private readonly listeners = new Set<(event: RegistryEvent) => void>();
  readonly things: Table<ThingRecord>;
  readonly policies: Table<StoredPolicy>;
  readonly certificates: Table<StoredCertificate>;
  readonly rules: Table<TopicRuleRecord>;
  readonly endpoints: Table<string>;
  /** Things on principals: left = thing name, right = principal (certificate ARN). */
  readonly thingPrincipals: LinkIndex<ThingPrincipalLink>;
  /** Policies on targets: left = policy name, right = target (certificate ARN). */
  readonly policyTargets: LinkIndex<PolicyTargetLink>;
  private seq: number;
  /** Changes not yet on disk (a full disk keeps them here, retried every second). */
  private readonly writing = new Set<Promise<void>>();
  private holding = false;
  private closed = false;
  private checkpointing = false;

  private constructor(
    private readonly snapshot: StateFile<Snapshot>,
    private readonly log: AppendLog<Change>,
    private readonly identity: CloudIdentity,
    readonly logger: LocalLogger,
  ) {
    const record =
      <K extends Change['k']>(k: K) =>
      (id: string, v: unknown) =>
        this.record({ s: 0, k, id, ...(v === undefined ? {} : { v }) } as Change);
    this.things = new Table<ThingRecord>(record('thing'));
    this.policies = new Table<StoredPolicy>(record('policy'));
    this.certificates = new Table<StoredCertificate>(record('certificate'));
    this.rules = new Table<TopicRuleRecord>(record('rule'));
    this.endpoints = new Table<string>(record('endpoint'));
    this.thingPrincipals = new LinkIndex(
      (l) => [l.thingName, l.principal] as const,
      record('thingPrincipal'),
    );
    this.policyTargets = new LinkIndex((l) => [l.policyName, l.target] as const, record('policyTarget'));
    this.seq = snapshot.value.seq ?? 0;
  }

  static open(stateDir: string, identity: CloudIdentity, logger: LocalLogger): RegistryStore {
    const dir = join(stateDir, 'iot');
    const snapshot = StateFile.open<Snapshot>({
      path: join(dir, REGISTRY_FILE),
      schema: SnapshotSchema,
      initial: () => ({
        things: {},
        policies: {},
        certificates: {},
        thingPrincipals: [],
        policyTargets: [],
        rules: {},
        endpoints: {},
      }),
      what: 'the IoT registry (things, certificates, policies, attachments, topic rules)',
      logger,
      whenUnusable: 'refuse',
      restoreNote: `the changes made since then are applied again from ${REGISTRY_LOG_FILE}`,
    });
    const { log, records } = AppendLog.open({
      path: join(dir, REGISTRY_LOG_FILE),
      schema: ChangeSchema,
      what: 'the change log of the IoT registry',
      logger,
      // The cloud writes endpoints.json at every start, after the registry is open.
      ...(existsSync(join(stateDir, ENDPOINTS_FILE))
        ? { missingLoses: `every registry change since the last checkpoint (${REGISTRY_FILE})` }
        : {}),
    });
    const store = new RegistryStore(snapshot, log, identity, logger);
    store.load(snapshot.value, records);
    return store;
  }

  /** Fills the tables from the checkpoint and the later changes, without logging them. */
  private load(s: Snapshot, changes: readonly Change[]): void {
    for (const [id, v] of Object.entries(s.things)) this.things.items.set(id, v as ThingRecord);
    for (const [id, v] of Object.entries(s.policies)) this.policies.items.set(id, v);
    for (const [id, v] of Object.entries(s.certificates)) this.certificates.items.set(id, v);
    for (const [id, v] of Object.entries(s.rules)) this.rules.items.set(id, v as TopicRuleRecord);
    for (const [id, v] of Object.entries(s.endpoints)) this.endpoints.items.set(id, v);
    for (const l of s.thingPrincipals) this.thingPrincipals.set(l);
    for (const l of s.policyTargets) this.policyTargets.set(l);
    const from = this.seq;
    // A change retried after a full disk may follow later ones in the file: apply in order.
    const ordered = [...changes].sort((a, b) => a.s - b.s);
    for (const c of ordered) {
      if (c.s <= from) continue; // already in the checkpoint
      this.seq = Math.max(this.seq, c.s);
      const table = (
        {
          thing: this.things,
          policy: this.policies,
          certificate: this.certificates,
          rule: this.rules,
          endpoint: this.endpoints,
        } as Record<string, Table<unknown> | undefined>
      )[c.k];
      if (table) {
        if (c.v === undefined) table.items.delete(c.id);
        else table.items.set(c.id, c.v);
        continue;
      }
      const links = (
        c.k === 'thingPrincipal' ? this.thingPrincipals : this.policyTargets
      ) as LinkIndex<unknown>;
      const [left = '', right = ''] = c.id.split('\n');
      if (c.v === undefined) links.unset(left, right);
      else links.set(c.v);
    }
  }

  /**
   * Logs one change (group commit); `durable()` tells when it is on disk. A change the disk
   * refuses stays in memory (the registry already shows it) and is written again every second
   * until it succeeds; it carries its sequence number, so its late place in the file is harmless.
   */
  private record(change: Change): void {
    this.seq++;
    const stamped = { ...change, s: this.seq } as Change;
    const attempt = async (): Promise<void> => {
      for (;;) {
        try {
          await this.log.append(stamped);
          if (this.holding && this.writing.size <= 1) {
            this.holding = false;
            this.logger.info('registry changes held for lack of disk are written');
          }
          return;
        } catch (err) {
          if (!isStorageFailure(err) || this.closed) {
            this.logger.error(`a registry change could not be written: ${errorText(err)}`);
            return;
          }
          if (!this.holding) {
            this.holding = true;
            this.logger.error(
              `registry changes are held in memory: ${errorText(err)}; they are written once the disk has room`,
            );
          }
          await new Promise((resolve) => setTimeout(resolve, WRITE_RETRY_MS));
        }
      }
    };
    const write = attempt().finally(() => this.writing.delete(write));
    this.writing.add(write);
    this.checkpointIfDue();
  }

  /**
   * Resolves once every change made so far is on disk. Throws a StorageUnavailableError when
   * the disk has refused them for `timeoutMs`: the caller reports that instead of acknowledging
   * (the changes stay in memory and are written once the disk has room).
   */
  async durable(timeoutMs = 5_000): Promise<void> {
    if (this.writing.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const written = await Promise.race([
      Promise.all([...this.writing]).then(() => true),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (!written) {
      throw new StorageUnavailableError(join(this.log.path), 'ENOSPC', undefined);
    }
  }

  /** Entries in the registry, for the checkpoint threshold. */
  private entryCount(): number {
    return (
      this.things.size +
      this.policies.size +
      this.certificates.size +
      this.rules.size +
      this.thingPrincipals.size +
      this.policyTargets.size
    );
  }

  /**
   * Writes a checkpoint once the log holds more records than the registry has entries (and at
   * least CHECKPOINT_MIN_RECORDS): a change then costs O(1) amortized at any fleet size.
   */
  private checkpointIfDue(): void {
    if (this.checkpointing) return;
    const pending = this.log.lines;
    if (pending < CHECKPOINT_MIN_RECORDS || pending < this.entryCount()) return;
    this.checkpointing = true;
    setImmediate(() => {
      this.checkpoint()
        .catch((err: unknown) => this.logger.warn(`registry checkpoint not written: ${errorText(err)}`))
        .finally(() => {
          this.checkpointing = false;
        });
    });
  }

  /**
   * Writes the whole registry as the checkpoint (the one it replaces becomes the last-good
   * copy), then drops from the change log what both checkpoints hold: the log keeps the changes
   * since the last-good checkpoint, so a damaged checkpoint falls back to the last-good one and
   * loses nothing.
   */
  async checkpoint(): Promise<void> {
    await this.log.idle();
    const previous = this.snapshot.value.seq ?? 0;
    this.snapshot.value = this.toSnapshot();
    this.snapshot.save();
    const kept = this.log.readAll().filter((c) => c.s > previous);
    await this.log.rewrite(() => kept);
  }

  private toSnapshot(): Snapshot {
    return {
      things: Object.fromEntries(this.things.items),
      policies: Object.fromEntries(this.policies.items),
      certificates: Object.fromEntries(this.certificates.items),
      thingPrincipals: this.thingPrincipals.all(),
      policyTargets: this.policyTargets.all(),
      rules: Object.fromEntries(this.rules.items) as Snapshot['rules'],
      endpoints: Object.fromEntries(this.endpoints.items),
      seq: this.seq,
    };
  }

  /** Writes what is pending (giving held changes a last chance) and closes the log. */
  async close(): Promise<void> {
    try {
      await this.durable(2_000);
    } catch {
      this.logger.error(`registry changes the disk refused are lost: ${this.writing.size} not written`);
    }
    this.closed = true;
    await this.log.close();
  }

  arn(type: string, name: string): string {
    return iotArn(this.identity, type, name);
  }

  on(listener: (event: RegistryEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: RegistryEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch (err) {
        this.logger.error(`registry listener failed: ${errorText(err)}`);
      }
    }
  }
}

export const sortBy = <T>(items: T[], key: (t: T) => string | number) =>
  items.sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
