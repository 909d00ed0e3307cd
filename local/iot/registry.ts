/**
 * The IoT registry: things, policies, certificates, their attachments, topic rules and data
 * endpoints, kept in one durable JSON document under `<stateDir>/iot/`. It is the typed API
 * the control-plane route and the deployer call, and the PrincipalDirectory the broker reads.
 *
 * Follows the AWS IoT API Reference for each operation (CreateThing, UpdateThing,
 * CreatePolicy, CreateCertificateFromCsr, UpdateCertificate, DeleteCertificate, AttachPolicy,
 * AttachThingPrincipal, DescribeEndpoint, CreateTopicRule, ...) and aws-semantics §6.
 *
 * LIMITATIONS versus AWS:
 * - Thing types, thing groups and billing groups are not modelled: thingTypeName is stored as
 *   given, without CreateThingType; policies attach to certificates only.
 * - One policy version per policy (CreatePolicyVersion and friends are not implemented).
 * - DescribeEndpoint returns a host that resolves to this machine (`localhost` by default),
 *   not `<prefix>-ats.iot.<region>.amazonaws.com`; the local broker's server certificate is
 *   valid for it. The address is fixed at the first call and kept in the state dir.
 * - No tags, no fleet indexing, no registry events over MQTT, no throttling.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { CaService } from '../ca';
import { type CloudIdentity, iotArn } from '../common/account';
import { JsonFile } from '../common/json-store';
import type { LocalLogger } from '../common/log';
import {
  certificateState,
  deleteConflict,
  invalidRequest,
  limitExceeded,
  resourceAlreadyExists,
  resourceNotFound,
  sqlParse,
  unauthorized,
  versionConflict,
} from './errors';
import { type Page, paginate } from './pagination';
import { parsePolicyDocument } from './policy';
import type {
  CertificateRecord,
  CertificateStatus,
  PolicyDocument,
  PolicyRecord,
  PrincipalDirectory,
  RegistryEvent,
  ThingAttachment,
  ThingRecord,
} from './types';

export const REGISTRY_FILE = 'registry.json';

/** AWS IoT quotas used by the checks below. */
const MAX_ATTRIBUTES = 50;
const MAX_POLICIES_PER_PRINCIPAL = 10;
const MAX_RULE_ACTIONS = 10;
const THING_NAME = /^[a-zA-Z0-9:_-]{1,128}$/;
const POLICY_NAME = /^[\w+=,.@-]{1,128}$/;
const RULE_NAME = /^[a-zA-Z0-9_]{1,128}$/;
const ATTRIBUTE_NAME = /^[a-zA-Z0-9_.,@/:#=[\]-]{1,128}$/;
const ATTRIBUTE_VALUE = /^[a-zA-Z0-9_.,@/:#=[\]-]{0,800}$/;
const CERTIFICATE_ID = /^[0-9a-fA-F]{64}$/;
export const ENDPOINT_TYPES = ['iot:Data', 'iot:Data-ATS', 'iot:CredentialProvider', 'iot:Jobs'] as const;
export const DEFAULT_SQL_VERSION = '2015-10-08';

export interface StoredCertificate extends CertificateRecord {
  readonly notBefore: number;
  readonly notAfter: number;
  generationId: string;
}

export interface StoredPolicy extends PolicyRecord {
  readonly creationDate: number;
  lastModifiedDate: number;
  generationId: string;
}

export interface TopicRulePayload {
  readonly sql: string;
  readonly description?: string;
  readonly actions: readonly Record<string, unknown>[];
  readonly ruleDisabled?: boolean;
  readonly awsIotSqlVersion?: string;
  readonly errorAction?: Record<string, unknown>;
}

export interface TopicRuleRecord {
  readonly ruleName: string;
  readonly ruleArn: string;
  readonly sql: string;
  readonly description?: string;
  readonly actions: readonly Record<string, unknown>[];
  readonly ruleDisabled: boolean;
  /** Defaults to 2015-10-08 when the payload omits it, as AWS does. */
  readonly awsIotSqlVersion: string;
  readonly errorAction?: Record<string, unknown>;
  /** Epoch milliseconds. */
  readonly createdAt: number;
}

interface ThingPrincipalLink {
  readonly thingName: string;
  readonly principal: string;
  readonly exclusive: boolean;
}

interface PolicyTargetLink {
  readonly policyName: string;
  readonly target: string;
}

interface RegistryState {
  things: Record<string, ThingRecord>;
  policies: Record<string, StoredPolicy>;
  certificates: Record<string, StoredCertificate>;
  thingPrincipals: ThingPrincipalLink[];
  policyTargets: PolicyTargetLink[];
  rules: Record<string, TopicRuleRecord>;
  endpoints: Record<string, string>;
}

export interface RegistryOptions {
  readonly stateDir: string;
  readonly ca: CaService;
  readonly identity: CloudIdentity;
  readonly logger: LocalLogger;
  /** Host DescribeEndpoint returns on its first call; default `localhost`. */
  readonly endpointAddress?: string;
  /** Checks a rule's SQL; returns an error message for SqlParseException, or undefined if it parses. */
  readonly validateRuleSql?: (sql: string, version: string) => string | undefined;
}

export interface ThingInput {
  readonly thingName: string;
  readonly thingTypeName?: string;
  readonly attributes?: Record<string, string>;
}

export interface ThingUpdate {
  readonly thingName: string;
  readonly thingTypeName?: string;
  readonly removeThingType?: boolean;
  readonly attributes?: Record<string, string>;
  /** Merge with the existing attributes (an empty value removes one); default false replaces them all. */
  readonly merge?: boolean;
  readonly expectedVersion?: number;
}

export interface ListThingsFilter {
  readonly attributeName?: string;
  readonly attributeValue?: string;
  readonly usePrefixAttributeValue?: boolean;
  readonly thingTypeName?: string;
  readonly nextToken?: string;
  readonly maxResults?: number;
}

export interface CertificateCreated {
  readonly certificateArn: string;
  readonly certificateId: string;
  readonly certificatePem: string;
}

export type ThingPrincipalType = 'EXCLUSIVE_THING' | 'NON_EXCLUSIVE_THING';
type RulesListener = (rules: readonly TopicRuleRecord[]) => void;

const sortBy = <T>(items: T[], key: (t: T) => string | number) =>
  items.sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });

/** The FROM topic filter of a rule's SQL, as ListTopicRules reports it in topicPattern. */
export function topicPatternOf(sql: string): string | undefined {
  return /\bFROM\s+(?:'([^']*)'|"([^"]*)"|(\S+))/i
    .exec(sql)
    ?.slice(1)
    .find((g) => g !== undefined);
}

export class IotRegistry implements PrincipalDirectory {
  private readonly listeners = new Set<(event: RegistryEvent) => void>();
  private readonly ruleListeners = new Set<RulesListener>();
  private readonly parsed = new Map<string, PolicyDocument>();

  private constructor(
    private readonly file: JsonFile<RegistryState>,
    private readonly options: RegistryOptions,
    private readonly logger: LocalLogger,
  ) {}

  static open(options: RegistryOptions): IotRegistry {
    const file = JsonFile.open<RegistryState>(join(options.stateDir, 'iot', REGISTRY_FILE), () => ({
      things: {},
      policies: {},
      certificates: {},
      thingPrincipals: [],
      policyTargets: [],
      rules: {},
      endpoints: {},
    }));
    return new IotRegistry(file, options, options.logger.child('iot'));
  }

  private get state(): RegistryState {
    return this.file.value;
  }

  private arn(type: string, name: string) {
    return iotArn(this.options.identity, type, name);
  }

  certificateArn(certificateId: string): string {
    return this.arn('cert', certificateId);
  }

  private emit(event: RegistryEvent) {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch (err) {
        this.logger.error(`registry listener failed: ${(err as Error).message}`);
      }
    }
  }

  private emitRules() {
    const rules = this.rules();
    for (const l of this.ruleListeners) {
      try {
        l(rules);
      } catch (err) {
        this.logger.error(`topic rule listener failed: ${(err as Error).message}`);
      }
    }
  }

  // ---- PrincipalDirectory -------------------------------------------------------------

  thingByName(thingName: string): ThingRecord | undefined {
    return this.state.things[thingName];
  }

  certificateById(certificateId: string): CertificateRecord | undefined {
    return this.state.certificates[certificateId.toLowerCase()];
  }

  thingsOfPrincipal(principalArn: string): ThingAttachment[] {
    return this.state.thingPrincipals
      .filter((l) => l.principal === principalArn)
      .flatMap((l) => {
        const thing = this.state.things[l.thingName];
        return thing ? [{ thing, exclusive: l.exclusive }] : [];
      });
  }

  policiesOfPrincipal(principalArn: string): Array<{ policyName: string; document: PolicyDocument }> {
    return this.state.policyTargets
      .filter((l) => l.target === principalArn)
      .flatMap((l) => {
        const policy = this.state.policies[l.policyName];
        if (!policy) return [];
        let document = this.parsed.get(policy.policyName);
        if (!document) {
          document = JSON.parse(policy.policyDocument) as PolicyDocument;
          this.parsed.set(policy.policyName, document);
        }
        return [{ policyName: policy.policyName, document }];
      });
  }

  on(listener: (event: RegistryEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---- Things -----------------------------------------------------------------------

  createThing(input: ThingInput): { thingName: string; thingArn: string; thingId: string } {
    const { thingName } = input;
    if (!THING_NAME.test(thingName ?? '')) throw invalidRequest(`Invalid thing name: ${thingName}`);
    const attributes = this.checkAttributes(input.attributes ?? {});
    const existing = this.state.things[thingName];
    if (existing) {
      const same =
        (existing.thingTypeName ?? undefined) === (input.thingTypeName ?? undefined) &&
        JSON.stringify(sortedEntries(existing.attributes)) === JSON.stringify(sortedEntries(attributes));
      if (!same) {
        throw resourceAlreadyExists(
          `Thing ${thingName} already exists in account with different attributes`,
          existing.thingId,
          existing.thingArn,
        );
      }
      return { thingName, thingArn: existing.thingArn, thingId: existing.thingId };
    }
    const thing: ThingRecord = {
      thingName,
      thingArn: this.arn('thing', thingName),
      thingId: randomUUID(),
      ...(input.thingTypeName ? { thingTypeName: input.thingTypeName } : {}),
      attributes,
      version: 1,
    };
    this.file.update((s) => {
      s.things[thingName] = thing;
    });
    this.emit({ type: 'thing-changed', thingName });
    return { thingName, thingArn: thing.thingArn, thingId: thing.thingId };
  }

  describeThing(thingName: string): ThingRecord {
    const thing = this.state.things[thingName];
    if (!thing) throw resourceNotFound(`Thing ${thingName} cannot be found.`);
    return thing;
  }

  listThings(filter: ListThingsFilter = {}): Page<ThingRecord> {
    if (filter.attributeValue !== undefined && filter.attributeName === undefined) {
      throw invalidRequest('attributeValue requires attributeName');
    }
    const matches = (t: ThingRecord) => {
      if (filter.thingTypeName !== undefined && t.thingTypeName !== filter.thingTypeName) return false;
      if (filter.attributeName === undefined) return true;
      const value = t.attributes[filter.attributeName];
      if (value === undefined) return false;
      if (filter.attributeValue === undefined) return true;
      return filter.usePrefixAttributeValue
        ? value.startsWith(filter.attributeValue)
        : value === filter.attributeValue;
    };
    const all = sortBy(Object.values(this.state.things).filter(matches), (t) => t.thingName);
    return paginate(all, filter.nextToken, filter.maxResults, 250);
  }

  updateThing(update: ThingUpdate): void {
    const thing = this.describeThing(update.thingName);
    if (update.expectedVersion !== undefined && update.expectedVersion !== thing.version) {
      throw versionConflict(
        `The version for thing ${thing.thingName} does not match the expected version (${update.expectedVersion}).`,
      );
    }
    if (update.removeThingType && update.thingTypeName) {
      throw invalidRequest('removeThingType cannot be combined with thingTypeName');
    }
    let attributes = thing.attributes;
    if (update.attributes) {
      const next: Record<string, string> = update.merge ? { ...thing.attributes } : {};
      for (const [k, v] of Object.entries(update.attributes)) {
        if (v === '') delete next[k];
        else next[k] = v;
      }
      attributes = this.checkAttributes(next);
    }
    const { thingTypeName: _old, ...rest } = thing;
    const thingTypeName = update.removeThingType ? undefined : (update.thingTypeName ?? thing.thingTypeName);
    const updated: ThingRecord = {
      ...rest,
      ...(thingTypeName ? { thingTypeName } : {}),
      attributes,
      version: thing.version + 1,
    };
    this.file.update((s) => {
      s.things[thing.thingName] = updated;
    });
    this.emit({ type: 'thing-changed', thingName: thing.thingName });
  }

  deleteThing(thingName: string, expectedVersion?: number): void {
    const thing = this.state.things[thingName];
    if (!thing) return; // AWS: deleting a thing that does not exist succeeds.
    if (expectedVersion !== undefined && expectedVersion !== thing.version) {
      throw versionConflict(
        `The version for thing ${thingName} does not match the expected version (${expectedVersion}).`,
      );
    }
    if (this.state.thingPrincipals.some((l) => l.thingName === thingName)) {
      throw invalidRequest(
        `Cannot delete thing ${thingName}: it still has principals attached; detach them first.`,
      );
    }
    this.file.update((s) => {
      delete s.things[thingName];
    });
    this.emit({ type: 'thing-changed', thingName });
  }

  private checkAttributes(attributes: Record<string, string>): Record<string, string> {
    if (typeof attributes !== 'object' || attributes === null || Array.isArray(attributes)) {
      throw invalidRequest('attributes must be a map of strings');
    }
    const entries = Object.entries(attributes);
    if (entries.length > MAX_ATTRIBUTES) {
      throw invalidRequest(`A thing can have at most ${MAX_ATTRIBUTES} attributes; got ${entries.length}`);
    }
    for (const [k, v] of entries) {
      if (!ATTRIBUTE_NAME.test(k)) throw invalidRequest(`Invalid attribute name: ${k}`);
      if (typeof v !== 'string' || !ATTRIBUTE_VALUE.test(v)) {
        throw invalidRequest(`Invalid value for attribute ${k}: ${String(v).slice(0, 100)}`);
      }
    }
    return { ...attributes };
  }

  // ---- Policies ---------------------------------------------------------------------

  createPolicy(
    policyName: string,
    policyDocument: string,
  ): { policyName: string; policyArn: string; policyDocument: string; policyVersionId: string } {
    if (!POLICY_NAME.test(policyName ?? '')) throw invalidRequest(`Invalid policy name: ${policyName}`);
    const document = parsePolicyDocument(policyDocument);
    const existing = this.state.policies[policyName];
    if (existing) {
      throw resourceAlreadyExists(
        `Policy cannot be created - name already exists (name=${policyName})`,
        policyName,
        existing.policyArn,
      );
    }
    const now = Date.now();
    const policy: StoredPolicy = {
      policyName,
      policyArn: this.arn('policy', policyName),
      policyDocument,
      defaultVersionId: '1',
      creationDate: now,
      lastModifiedDate: now,
      generationId: randomUUID(),
    };
    this.file.update((s) => {
      s.policies[policyName] = policy;
    });
    this.parsed.set(policyName, document);
    this.emit({ type: 'policy-changed', policyName });
    return { policyName, policyArn: policy.policyArn, policyDocument, policyVersionId: '1' };
  }

  getPolicy(policyName: string): StoredPolicy {
    const policy = this.state.policies[policyName];
    if (!policy) throw resourceNotFound(`Policy not found (name=${policyName})`);
    return policy;
  }

  listPolicies(marker?: string, pageSize?: number, ascending = true): Page<StoredPolicy> {
    const all = sortBy(Object.values(this.state.policies), (p) => p.policyName);
    if (!ascending) all.reverse();
    return paginate(all, marker, pageSize, 250);
  }

  deletePolicy(policyName: string): void {
    this.getPolicy(policyName);
    const targets = this.state.policyTargets.filter((l) => l.policyName === policyName);
    if (targets.length > 0) {
      throw deleteConflict(
        `The policy cannot be deleted as the policy is attached to one or more principals (name=${policyName})`,
      );
    }
    this.file.update((s) => {
      delete s.policies[policyName];
    });
    this.parsed.delete(policyName);
    this.emit({ type: 'policy-changed', policyName });
  }

  attachPolicy(policyName: string, target: string): void {
    this.getPolicy(policyName);
    this.certificateOfTarget(target);
    const attached = this.state.policyTargets.filter((l) => l.target === target);
    if (attached.some((l) => l.policyName === policyName)) return;
    if (attached.length >= MAX_POLICIES_PER_PRINCIPAL) {
      throw limitExceeded(`A principal can have at most ${MAX_POLICIES_PER_PRINCIPAL} policies attached`);
    }
    this.file.update((s) => {
      s.policyTargets.push({ policyName, target });
    });
    this.emit({ type: 'policy-changed', policyName });
  }

  detachPolicy(policyName: string, target: string): void {
    this.getPolicy(policyName);
    this.file.update((s) => {
      s.policyTargets = s.policyTargets.filter((l) => !(l.policyName === policyName && l.target === target));
    });
    this.emit({ type: 'policy-changed', policyName });
  }

  listAttachedPolicies(target: string, marker?: string, pageSize?: number): Page<StoredPolicy> {
    this.certificateOfTarget(target);
    const all = this.state.policyTargets
      .filter((l) => l.target === target)
      .flatMap((l) =>
        this.state.policies[l.policyName] ? [this.state.policies[l.policyName] as StoredPolicy] : [],
      );
    return paginate(
      sortBy(all, (p) => p.policyName),
      marker,
      pageSize,
      250,
    );
  }

  listTargetsForPolicy(policyName: string, marker?: string, pageSize?: number): Page<string> {
    this.getPolicy(policyName);
    const all = this.state.policyTargets.filter((l) => l.policyName === policyName).map((l) => l.target);
    return paginate(all.sort(), marker, pageSize, 250);
  }

  /** The certificate a principal ARN names; only certificate principals are supported. */
  private certificateOfTarget(target: string): StoredCertificate {
    const match = /^arn:aws[\w-]*:iot:[^:]*:[^:]*:cert\/([0-9a-fA-F]{64})$/.exec(target ?? '');
    if (!match?.[1]) {
      throw invalidRequest(
        `Unsupported principal ${target}: the local registry supports certificate ARNs only`,
      );
    }
    const cert = this.state.certificates[match[1].toLowerCase()];
    if (!cert) throw resourceNotFound(`The certificate given in the principal does not exist: ${target}`);
    return cert;
  }

  // ---- Certificates ------------------------------------------------------------------

  async createCertificateFromCsr(csrPem: string, setAsActive = false): Promise<CertificateCreated> {
    const issued = await this.options.ca.signCsr(csrPem);
    return this.storeCertificate(issued, setAsActive);
  }

  async createKeysAndCertificate(
    setAsActive = false,
  ): Promise<CertificateCreated & { keyPair: { PublicKey: string; PrivateKey: string } }> {
    const issued = await this.options.ca.createKeysAndCertificate();
    return { ...this.storeCertificate(issued, setAsActive), keyPair: { ...issued.keyPair } };
  }

  private storeCertificate(
    issued: { certificatePem: string; certificateId: string; notBefore: Date; notAfter: Date },
    setAsActive: boolean,
  ): CertificateCreated {
    const now = Date.now();
    const cert: StoredCertificate = {
      certificateId: issued.certificateId,
      certificateArn: this.certificateArn(issued.certificateId),
      certificatePem: issued.certificatePem,
      status: setAsActive ? 'ACTIVE' : 'INACTIVE',
      creationDate: now,
      lastModifiedDate: now,
      notBefore: issued.notBefore.getTime(),
      notAfter: issued.notAfter.getTime(),
      generationId: randomUUID(),
    };
    this.file.update((s) => {
      s.certificates[cert.certificateId] = cert;
    });
    this.logger.info(`registered certificate ${cert.certificateId} (${cert.status})`);
    return {
      certificateArn: cert.certificateArn,
      certificateId: cert.certificateId,
      certificatePem: cert.certificatePem,
    };
  }

  describeCertificate(certificateId: string): StoredCertificate {
    if (!CERTIFICATE_ID.test(certificateId ?? ''))
      throw invalidRequest(`Invalid certificate id: ${certificateId}`);
    const cert = this.state.certificates[certificateId.toLowerCase()];
    if (!cert)
      throw resourceNotFound(`The certificate given in the principal does not exist: ${certificateId}`);
    return cert;
  }

  listCertificates(marker?: string, pageSize?: number, ascending = false): Page<StoredCertificate> {
    const all = sortBy(Object.values(this.state.certificates), (c) => c.creationDate);
    if (!ascending) all.reverse();
    return paginate(all, marker, pageSize, 250);
  }

  updateCertificate(certificateId: string, newStatus: string): void {
    const cert = this.describeCertificate(certificateId);
    if (newStatus !== 'ACTIVE' && newStatus !== 'INACTIVE' && newStatus !== 'REVOKED') {
      throw invalidRequest(`Invalid newStatus ${newStatus}: use ACTIVE, INACTIVE or REVOKED`);
    }
    if (cert.status === 'REVOKED' && newStatus !== 'REVOKED') {
      throw certificateState(
        `Certificate ${cert.certificateId} is revoked and cannot be set to ${newStatus}`,
      );
    }
    if (cert.status === newStatus) return;
    const status = newStatus as CertificateStatus;
    this.file.update((s) => {
      s.certificates[cert.certificateId] = {
        ...cert,
        status,
        lastModifiedDate: Date.now(),
        generationId: randomUUID(),
      };
    });
    this.logger.info(`certificate ${cert.certificateId} is now ${status}`);
    this.emit({ type: 'certificate-status', certificateId: cert.certificateId, status });
  }

  deleteCertificate(certificateId: string, forceDelete = false): void {
    const cert = this.describeCertificate(certificateId);
    if (cert.status === 'ACTIVE') {
      throw certificateState(
        `Certificate ${cert.certificateId} is ACTIVE: deactivate or revoke it before deleting it`,
      );
    }
    if (this.state.thingPrincipals.some((l) => l.principal === cert.certificateArn)) {
      throw deleteConflict(`Certificate ${cert.certificateId} is attached to one or more things`);
    }
    if (!forceDelete && this.state.policyTargets.some((l) => l.target === cert.certificateArn)) {
      throw deleteConflict(
        `Certificate ${cert.certificateId} has policies attached: detach them or use forceDelete`,
      );
    }
    this.file.update((s) => {
      delete s.certificates[cert.certificateId];
      s.policyTargets = s.policyTargets.filter((l) => l.target !== cert.certificateArn);
    });
  }

  // ---- Thing principals -------------------------------------------------------------

  attachThingPrincipal(
    thingName: string,
    principal: string,
    type: ThingPrincipalType = 'NON_EXCLUSIVE_THING',
  ): void {
    this.describeThing(thingName);
    if (!principal) throw invalidRequest('The principal (header x-amzn-principal) is required');
    if (type !== 'EXCLUSIVE_THING' && type !== 'NON_EXCLUSIVE_THING') {
      throw invalidRequest(`Invalid thingPrincipalType ${String(type)}`);
    }
    this.certificateOfTarget(principal);
    const links = this.state.thingPrincipals.filter((l) => l.principal === principal);
    const others = links.filter((l) => l.thingName !== thingName);
    if (others.some((l) => l.exclusive) || (type === 'EXCLUSIVE_THING' && others.length > 0)) {
      throw invalidRequest(
        `Principal ${principal} is already attached to thing ${others[0]?.thingName}; an exclusive attachment allows one thing only`,
      );
    }
    this.file.update((s) => {
      s.thingPrincipals = s.thingPrincipals.filter(
        (l) => !(l.principal === principal && l.thingName === thingName),
      );
      s.thingPrincipals.push({ thingName, principal, exclusive: type === 'EXCLUSIVE_THING' });
    });
    this.emit({ type: 'thing-changed', thingName });
  }

  detachThingPrincipal(thingName: string, principal: string): void {
    this.describeThing(thingName);
    if (!principal) throw invalidRequest('The principal (header x-amzn-principal) is required');
    this.file.update((s) => {
      s.thingPrincipals = s.thingPrincipals.filter(
        (l) => !(l.principal === principal && l.thingName === thingName),
      );
    });
    this.emit({ type: 'thing-changed', thingName });
  }

  listThingPrincipals(thingName: string, nextToken?: string, maxResults?: number): Page<string> {
    this.describeThing(thingName);
    const all = this.state.thingPrincipals.filter((l) => l.thingName === thingName).map((l) => l.principal);
    return paginate(all.sort(), nextToken, maxResults, 250);
  }

  listPrincipalThings(principal: string, nextToken?: string, maxResults?: number): Page<string> {
    if (!principal) throw invalidRequest('The principal (header x-amzn-principal) is required');
    this.certificateOfTarget(principal);
    const all = this.state.thingPrincipals.filter((l) => l.principal === principal).map((l) => l.thingName);
    return paginate(all.sort(), nextToken, maxResults, 250);
  }

  // ---- Endpoints --------------------------------------------------------------------

  /** AWS: the first call creates the endpoint and later calls return the same address. */
  describeEndpoint(endpointType = 'iot:Data'): string {
    if (!(ENDPOINT_TYPES as readonly string[]).includes(endpointType)) {
      throw invalidRequest(`Invalid endpointType ${endpointType}: use one of ${ENDPOINT_TYPES.join(', ')}`);
    }
    const existing = this.state.endpoints[endpointType];
    if (existing) return existing;
    const address = this.options.endpointAddress ?? 'localhost';
    this.file.update((s) => {
      s.endpoints[endpointType] = address;
    });
    return address;
  }

  // ---- Topic rules ------------------------------------------------------------------

  /** Every stored rule, in name order; the rules engine runs the enabled ones. */
  rules(): TopicRuleRecord[] {
    return sortBy(Object.values(this.state.rules), (r) => r.ruleName);
  }

  /** Called with all rules after every change. Returns an unsubscribe function. */
  onRulesChange(listener: RulesListener): () => void {
    this.ruleListeners.add(listener);
    return () => this.ruleListeners.delete(listener);
  }

  createTopicRule(ruleName: string, payload: TopicRulePayload): TopicRuleRecord {
    this.checkRuleName(ruleName);
    if (this.state.rules[ruleName]) {
      throw resourceAlreadyExists(`Rule ${ruleName} already exists`, ruleName, this.arn('rule', ruleName));
    }
    return this.putRule(ruleName, payload, Date.now());
  }

  replaceTopicRule(ruleName: string, payload: TopicRulePayload): TopicRuleRecord {
    const existing = this.getTopicRule(ruleName);
    return this.putRule(ruleName, payload, existing.createdAt);
  }

  getTopicRule(ruleName: string): TopicRuleRecord {
    this.checkRuleName(ruleName);
    const rule = this.state.rules[ruleName];
    if (!rule) throw unauthorized(`Rule ${ruleName} does not exist`);
    return rule;
  }

  listTopicRules(
    filter: { topic?: string; ruleDisabled?: boolean; nextToken?: string; maxResults?: number } = {},
  ): Page<TopicRuleRecord> {
    const all = this.rules().filter(
      (r) =>
        (filter.topic === undefined || topicPatternOf(r.sql) === filter.topic) &&
        (filter.ruleDisabled === undefined || r.ruleDisabled === filter.ruleDisabled),
    );
    return paginate(all, filter.nextToken, filter.maxResults, 10000);
  }

  deleteTopicRule(ruleName: string): void {
    this.getTopicRule(ruleName);
    this.file.update((s) => {
      delete s.rules[ruleName];
    });
    this.emitRules();
  }

  private checkRuleName(ruleName: string) {
    if (!RULE_NAME.test(ruleName ?? '')) {
      throw invalidRequest(`Invalid rule name ${ruleName}: 1-128 characters of [a-zA-Z0-9_]`);
    }
  }

  private putRule(ruleName: string, payload: TopicRulePayload, createdAt: number): TopicRuleRecord {
    if (typeof payload !== 'object' || payload === null) throw invalidRequest('topicRulePayload is required');
    if (typeof payload.sql !== 'string' || payload.sql.trim() === '')
      throw invalidRequest('topicRulePayload.sql is required');
    if (!Array.isArray(payload.actions)) throw invalidRequest('topicRulePayload.actions is required');
    if (payload.actions.length > MAX_RULE_ACTIONS) {
      throw invalidRequest(
        `A rule can have at most ${MAX_RULE_ACTIONS} actions; got ${payload.actions.length}`,
      );
    }
    const version = payload.awsIotSqlVersion ?? DEFAULT_SQL_VERSION;
    if (!['2015-10-08', '2016-03-23', 'beta'].includes(version)) {
      throw invalidRequest(`Invalid awsIotSqlVersion ${version}`);
    }
    const problem = this.options.validateRuleSql?.(payload.sql, version);
    if (problem) throw sqlParse(problem);
    const rule: TopicRuleRecord = {
      ruleName,
      ruleArn: this.arn('rule', ruleName),
      sql: payload.sql,
      ...(payload.description !== undefined ? { description: payload.description } : {}),
      actions: payload.actions,
      ruleDisabled: payload.ruleDisabled ?? false,
      awsIotSqlVersion: version,
      ...(payload.errorAction ? { errorAction: payload.errorAction } : {}),
      createdAt,
    };
    this.file.update((s) => {
      s.rules[ruleName] = rule;
    });
    this.emitRules();
    return rule;
  }
}

function sortedEntries(o: Record<string, string>) {
  return Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
