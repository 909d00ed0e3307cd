/**
 * The IoT registry's persistence, at a cost per change that does not grow with the fleet: the
 * registry lives in memory, indexed; each change (a thing, policy, certificate, attachment,
 * topic rule or endpoint put or removed) is one record appended to `<stateDir>/iot/registry.log`,
 * and now and then the whole registry is written to `<stateDir>/iot/registry.json` as a
 * checkpoint (a CheckpointedLog: group commit, checksums, last-good checkpoint, held changes on
 * a full disk).
 *
 * `durable()` resolves once every change made so far is on disk; the `iot` API answers after
 * it, so an acknowledged change survives a crash. With neither the checkpoint nor its last-good
 * copy usable, the cloud refuses to start rather than forget the fleet.
 *
 * Lookups the broker makes on every check are indexed: the things and policies of a principal,
 * the principals of a thing, the targets of a policy.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ENDPOINTS_FILE } from '../../contracts/local-endpoints';
import { CheckpointedLog, type CloudIdentity, errorText, iotArn, type LocalLogger } from '../common';
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
  private persistence!: CheckpointedLog<Snapshot, Change>;

  private constructor(
    private readonly identity: CloudIdentity,
    readonly logger: LocalLogger,
  ) {
    const record =
      <K extends Change['k']>(k: K) =>
      (id: string, v: unknown) =>
        void this.persistence.record({ k, id, ...(v === undefined ? {} : { v }) } as Omit<Change, 's'>);
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
  }

  static open(stateDir: string, identity: CloudIdentity, logger: LocalLogger): RegistryStore {
    const store = new RegistryStore(identity, logger);
    const {
      store: persistence,
      checkpoint,
      changes,
    } = CheckpointedLog.open<Snapshot, Change>({
      dir: join(stateDir, 'iot'),
      checkpointFile: REGISTRY_FILE,
      logFile: REGISTRY_LOG_FILE,
      checkpointSchema: SnapshotSchema,
      changeSchema: ChangeSchema,
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
      // The cloud writes endpoints.json at every start, after the registry is open.
      logMustExist: existsSync(join(stateDir, ENDPOINTS_FILE)),
      snapshot: () => store.toSnapshot(),
      entries: () => store.entryCount(),
    });
    store.persistence = persistence;
    store.load(checkpoint, changes);
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
    for (const c of changes) {
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
   * Resolves once every change made so far is on disk; throws a StorageUnavailableError when
   * the disk has refused them for `timeoutMs` (see CheckpointedLog).
   */
  durable(timeoutMs = 5_000): Promise<void> {
    return this.persistence.durable(timeoutMs);
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

  /** Writes the whole registry as the checkpoint now (see CheckpointedLog). */
  checkpoint(): Promise<void> {
    return this.persistence.checkpoint();
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
    };
  }

  /** Writes what is pending (giving held changes a last chance) and closes the log. */
  close(): Promise<void> {
    return this.persistence.close();
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
