/**
 * Registry records, and the read side the broker needs to authenticate and authorize a
 * connection: certificate by id, the thing attached to it, and the policies attached to it.
 */

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

export type PolicyEvaluator = (
  policies: ReadonlyArray<{ policyName: string; document: PolicyDocument }>,
  request: AuthorizationRequest,
  context: AuthorizationContext,
) => AuthorizationResult;
