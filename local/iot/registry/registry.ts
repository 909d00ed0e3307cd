/**
 * The IoT registry: things, policies, certificates, their attachments, topic rules and data
 * endpoints, kept in memory with indexes and on disk as a change log with checkpoints
 * (../store.ts), so a change costs the same at any fleet size. This class is the typed API the
 * control-plane route, the deployer and tests call, one method per IoT API operation, each
 * carried out by the module of its resource; it is also the PrincipalDirectory the broker
 * authenticates and authorizes against.
 *
 * Follows the AWS IoT API Reference page of each operation (CreateThing, UpdateThing,
 * CreatePolicy, CreateCertificateFromCsr, UpdateCertificate, DeleteCertificate, AttachPolicy,
 * AttachThingPrincipal, DescribeEndpoint, CreateTopicRule, ...).
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
import type { CaService } from '../../ca';
import type { CloudIdentity, LocalLogger } from '../../common';
import type { Page } from '../pagination';
import { RegistryStore } from '../store';
import type {
  CertificateCreated,
  CertificateRecord,
  ListThingsFilter,
  PolicyDocument,
  PrincipalDirectory,
  RegistryEvent,
  RuleSqlValidator,
  StoredCertificate,
  StoredPolicy,
  ThingAttachment,
  ThingInput,
  ThingPrincipalType,
  ThingRecord,
  ThingUpdate,
  TopicRulePayload,
  TopicRuleRecord,
} from '../types';
import { Attachments } from './attachments';
import { Certificates } from './certificates';
import { Endpoints } from './endpoints';
import { Policies } from './policies';
import { Things } from './things';
import { type RulesListener, TopicRules } from './topic-rules';

export interface RegistryOptions {
  readonly stateDir: string;
  readonly ca: CaService;
  readonly identity: CloudIdentity;
  readonly logger: LocalLogger;
  /** Host DescribeEndpoint returns on its first call; default `localhost`. */
  readonly endpointAddress?: string;
  /** Checks a rule's SQL; returns an error message for SqlParseException, or undefined if it parses. */
  readonly validateRuleSql?: RuleSqlValidator;
}

export class IotRegistry implements PrincipalDirectory {
  private constructor(
    private readonly store: RegistryStore,
    private readonly things: Things,
    private readonly policies: Policies,
    private readonly certificates: Certificates,
    private readonly attachments: Attachments,
    private readonly topicRules: TopicRules,
    private readonly endpoints: Endpoints,
  ) {}

  static open(options: RegistryOptions): IotRegistry {
    const store = RegistryStore.open(options.stateDir, options.identity, options.logger.child('iot'));
    const things = new Things(store);
    const policies = new Policies(store);
    return new IotRegistry(
      store,
      things,
      policies,
      new Certificates(store, options.ca),
      new Attachments(store, things, policies),
      new TopicRules(store, options.validateRuleSql),
      new Endpoints(store, options.endpointAddress ?? 'localhost'),
    );
  }

  // ---- PrincipalDirectory (the broker's read side) ---------------------------------------

  thingByName(thingName: string): ThingRecord | undefined {
    return this.things.byName(thingName);
  }

  certificateById(certificateId: string): CertificateRecord | undefined {
    return this.certificates.byId(certificateId);
  }

  thingsOfPrincipal(principalArn: string): ThingAttachment[] {
    return this.attachments.thingsOf(principalArn);
  }

  policiesOfPrincipal(principalArn: string): Array<{ policyName: string; document: PolicyDocument }> {
    return this.attachments
      .policiesOf(principalArn)
      .map((policy) => ({ policyName: policy.policyName, document: this.policies.document(policy) }));
  }

  on(listener: (event: RegistryEvent) => void): () => void {
    return this.store.on(listener);
  }

  // ---- Durability ------------------------------------------------------------------------------

  /**
   * Resolves once every change made so far is on disk; the API answers after it. Throws a
   * StorageUnavailableError when the disk keeps refusing (the changes stay in memory and are
   * written once it has room).
   */
  durable(timeoutMs?: number): Promise<void> {
    return this.store.durable(timeoutMs);
  }

  /** Writes the whole registry as a checkpoint now (the store also does so as its log grows). */
  checkpoint(): Promise<void> {
    return this.store.checkpoint();
  }

  /** Writes what is pending and closes the registry's files. */
  close(): Promise<void> {
    return this.store.close();
  }

  // ---- Things ------------------------------------------------------------------------------

  createThing(input: ThingInput): { thingName: string; thingArn: string; thingId: string } {
    return this.things.create(input);
  }
  describeThing(thingName: string): ThingRecord {
    return this.things.describe(thingName);
  }
  listThings(filter?: ListThingsFilter): Page<ThingRecord> {
    return this.things.list(filter);
  }
  updateThing(update: ThingUpdate): void {
    this.things.update(update);
  }
  deleteThing(thingName: string, expectedVersion?: number): void {
    this.things.delete(thingName, expectedVersion);
  }

  // ---- Policies and their attachments ------------------------------------------------------

  createPolicy(
    policyName: string,
    policyDocument: string,
  ): { policyName: string; policyArn: string; policyDocument: string; policyVersionId: string } {
    return this.policies.create(policyName, policyDocument);
  }
  getPolicy(policyName: string): StoredPolicy {
    return this.policies.get(policyName);
  }
  listPolicies(marker?: string, pageSize?: number, ascending?: boolean): Page<StoredPolicy> {
    return this.policies.list(marker, pageSize, ascending);
  }
  deletePolicy(policyName: string): void {
    this.policies.delete(policyName);
  }
  attachPolicy(policyName: string, target: string): void {
    this.attachments.attachPolicy(policyName, target);
  }
  detachPolicy(policyName: string, target: string): void {
    this.attachments.detachPolicy(policyName, target);
  }
  listAttachedPolicies(target: string, marker?: string, pageSize?: number): Page<StoredPolicy> {
    return this.attachments.listAttachedPolicies(target, marker, pageSize);
  }
  listTargetsForPolicy(policyName: string, marker?: string, pageSize?: number): Page<string> {
    return this.attachments.listTargetsForPolicy(policyName, marker, pageSize);
  }

  // ---- Certificates --------------------------------------------------------------------------

  certificateArn(certificateId: string): string {
    return this.certificates.arnOf(certificateId);
  }
  createCertificateFromCsr(csrPem: string, setAsActive?: boolean): Promise<CertificateCreated> {
    return this.certificates.createFromCsr(csrPem, setAsActive);
  }
  createKeysAndCertificate(
    setAsActive?: boolean,
  ): Promise<CertificateCreated & { keyPair: { PublicKey: string; PrivateKey: string } }> {
    return this.certificates.createKeysAndCertificate(setAsActive);
  }
  /**
   * A certificate for the provisioning MQTT API: PENDING_ACTIVATION until RegisterThing
   * activates it, from a CSR or with a new key pair.
   */
  createPendingCertificate(
    csrPem?: string,
  ): Promise<CertificateCreated & { keyPair?: { PublicKey: string; PrivateKey: string } }> {
    return csrPem === undefined
      ? this.certificates.createKeysAndCertificate('PENDING_ACTIVATION')
      : this.certificates.createFromCsr(csrPem, 'PENDING_ACTIVATION');
  }
  describeCertificate(certificateId: string): StoredCertificate {
    return this.certificates.describe(certificateId);
  }
  listCertificates(marker?: string, pageSize?: number, ascending?: boolean): Page<StoredCertificate> {
    return this.certificates.list(marker, pageSize, ascending);
  }
  updateCertificate(certificateId: string, newStatus: string): void {
    this.certificates.update(certificateId, newStatus);
  }
  deleteCertificate(certificateId: string, forceDelete?: boolean): void {
    this.certificates.delete(certificateId, forceDelete);
  }

  // ---- Things on certificates ----------------------------------------------------------------

  attachThingPrincipal(thingName: string, principal: string, type?: ThingPrincipalType): void {
    this.attachments.attachThingPrincipal(thingName, principal, type);
  }
  detachThingPrincipal(thingName: string, principal: string): void {
    this.attachments.detachThingPrincipal(thingName, principal);
  }
  listThingPrincipals(thingName: string, nextToken?: string, maxResults?: number): Page<string> {
    return this.attachments.listThingPrincipals(thingName, nextToken, maxResults);
  }
  listPrincipalThings(principal: string, nextToken?: string, maxResults?: number): Page<string> {
    return this.attachments.listPrincipalThings(principal, nextToken, maxResults);
  }

  // ---- Endpoints -------------------------------------------------------------------------------

  describeEndpoint(endpointType?: string): string {
    return this.endpoints.describe(endpointType);
  }

  // ---- Topic rules -----------------------------------------------------------------------------

  /** Every stored rule, in name order; the rules engine runs the enabled ones. */
  rules(): TopicRuleRecord[] {
    return this.topicRules.all();
  }
  /** Called with all rules after every change. Returns an unsubscribe function. */
  onRulesChange(listener: RulesListener): () => void {
    return this.topicRules.onChange(listener);
  }
  createTopicRule(ruleName: string, payload: TopicRulePayload): TopicRuleRecord {
    return this.topicRules.create(ruleName, payload);
  }
  replaceTopicRule(ruleName: string, payload: TopicRulePayload): TopicRuleRecord {
    return this.topicRules.replace(ruleName, payload);
  }
  getTopicRule(ruleName: string): TopicRuleRecord {
    return this.topicRules.get(ruleName);
  }
  listTopicRules(filter?: {
    topic?: string;
    ruleDisabled?: boolean;
    nextToken?: string;
    maxResults?: number;
  }): Page<TopicRuleRecord> {
    return this.topicRules.list(filter);
  }
  deleteTopicRule(ruleName: string): void {
    this.topicRules.delete(ruleName);
  }
}
