/**
 * Registry records, the inputs of the registry's operations, the read side the broker needs to
 * authenticate and authorize a connection (certificate by id, the thing attached to it, the
 * policies attached to it), and the IoT service's options and interface.
 */
import type { CaService } from '../ca';
import type { CloudIdentity, LocalLogger } from '../common';
import type { ServiceRoute } from '../gateway';
import type { CompiledPolicies } from './policy';
import type { IotRegistry } from './registry';

export type CertificateStatus = 'ACTIVE' | 'INACTIVE' | 'REVOKED' | 'PENDING_TRANSFER' | 'PENDING_ACTIVATION';

export interface CertificateRecord {
  readonly certificateId: string;
  readonly certificateArn: string;
  readonly certificatePem: string;
  status: CertificateStatus;
  readonly creationDate: number;
  lastModifiedDate: number;
}

export interface ThingRecord {
  readonly thingName: string;
  readonly thingArn: string;
  readonly thingId: string;
  thingTypeName?: string;
  attributes: Record<string, string>;
  version: number;
}

export interface PolicyRecord {
  readonly policyName: string;
  readonly policyArn: string;
  policyDocument: string;
  defaultVersionId: string;
}

/** A parsed IoT policy statement (IAM grammar). */
export interface PolicyStatement {
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: string | readonly string[];
  readonly NotAction?: string | readonly string[];
  readonly Resource?: string | readonly string[];
  readonly NotResource?: string | readonly string[];
  readonly Condition?: Record<string, Record<string, string | readonly string[]>>;
}

export interface PolicyDocument {
  readonly Version?: string;
  readonly Statement: PolicyStatement | readonly PolicyStatement[];
}

export interface ThingAttachment {
  readonly thing: ThingRecord;
  readonly exclusive: boolean;
}

export type RegistryEvent =
  | {
      readonly type: 'certificate-status';
      readonly certificateId: string;
      readonly status: CertificateStatus;
    }
  | { readonly type: 'policy-changed'; readonly policyName: string }
  | { readonly type: 'thing-changed'; readonly thingName: string };

export interface PrincipalDirectory {
  thingByName(thingName: string): ThingRecord | undefined;
  certificateById(certificateId: string): CertificateRecord | undefined;
  /** Things attached to a principal ARN (certificate ARN). */
  thingsOfPrincipal(principalArn: string): ThingAttachment[];
  /** Policies attached to a principal ARN, with their parsed documents. */
  policiesOfPrincipal(principalArn: string): Array<{ policyName: string; document: PolicyDocument }>;
  /** Status changes (revocation disconnects live sessions), policy and thing changes. */
  on(listener: (event: RegistryEvent) => void): () => void;
}

/** One authorization question, asked for every CONNECT, PUBLISH, SUBSCRIBE and delivery. */
export interface AuthorizationRequest {
  /** e.g. iot:Connect, iot:Publish, iot:Subscribe, iot:Receive, iot:RetainPublish. */
  readonly action: string;
  /** Full resource ARN, e.g. arn:aws:iot:us-east-1:000000000000:topic/dt/zonectl/hq/lobby/t1/readings. */
  readonly resource: string;
}

/** What policy variables resolve from. */
export interface AuthorizationContext {
  readonly clientId: string;
  /** Thing attached to the principal that resolves iot:Connection.Thing.* variables, if any. */
  readonly thing?: ThingRecord;
  readonly isAttached: boolean;
  /** Certificate id of the principal. */
  readonly principal?: string;
  readonly sourceIp?: string;
}

export interface AuthorizationResult {
  readonly allowed: boolean;
  /** Why, for the refusal log line: which statement allowed or denied, or that none matched. */
  readonly reason: string;
}

/** Compiles the policies attached to a principal (see policy/evaluate.ts `compilePolicies`). */
export type PolicyCompiler = (
  policies: ReadonlyArray<{ policyName: string; document: PolicyDocument }>,
) => CompiledPolicies;

export type PolicyEvaluator = (
  policies: ReadonlyArray<{ policyName: string; document: PolicyDocument }>,
  request: AuthorizationRequest,
  context: AuthorizationContext,
) => AuthorizationResult;

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

/** CreateTopicRule's payload; its shape is the rules engine's, which runs what is stored. */
export type { TopicRulePayload } from '../rules';

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

/** Checks a rule's SQL; returns an error message for SqlParseException, or undefined if it parses. */
export type RuleSqlValidator = (sql: string, version: string) => string | undefined;

export interface IotServiceOptions {
  /** The local cloud's state dir; the registry lives in `<stateDir>/iot/`. */
  readonly stateDir: string;
  readonly ca: CaService;
  readonly identity?: CloudIdentity;
  readonly logger: LocalLogger;
  /** Host DescribeEndpoint returns (kept from its first call); default `localhost`. */
  readonly endpointAddress?: string;
  /** Optional SQL check for CreateTopicRule / ReplaceTopicRule: an error message means SqlParseException. */
  readonly validateRuleSql?: RuleSqlValidator;
}

export interface IotService {
  /** The `iot` rest-json API, for the gateway. */
  readonly route: ServiceRoute;
  /** Read side for the broker: certificates, attached things and policies, change events. */
  readonly directory: PrincipalDirectory;
  /** Typed API for in-process callers (deployer, tests). Throws AwsServiceError like the HTTP API. */
  readonly registry: IotRegistry;
  close(): Promise<void>;
}
