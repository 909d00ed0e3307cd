import type { MessageBus } from '../broker';
import type { CloudIdentity, LocalLogger } from '../common';
import type { ServiceRoute } from '../gateway';
import type { IotRegistry } from '../iot';

export type TemplateType = 'FLEET_PROVISIONING' | 'JITP';

export interface ProvisioningHookConfig {
  readonly targetArn: string;
  readonly payloadVersion: string;
}

export interface TemplateVersion {
  readonly versionId: number;
  readonly templateBody: string;
  /** Epoch milliseconds. */
  readonly creationDate: number;
}

/** A provisioning template as CreateProvisioningTemplate stores it, with its versions. */
export interface ProvisioningTemplateRecord {
  readonly templateName: string;
  readonly templateArn: string;
  description?: string;
  enabled: boolean;
  provisioningRoleArn: string;
  readonly type: TemplateType;
  preProvisioningHook?: ProvisioningHookConfig;
  defaultVersionId: number;
  versions: TemplateVersion[];
  readonly creationDate: number;
  lastModifiedDate: number;
  tags?: Array<{ Key: string; Value?: string }>;
}

/** A certificate ownership token handed out by CreateCertificateFromCsr or CreateKeysAndCertificate. */
export interface OwnershipToken {
  readonly certificateId: string;
  /** Epoch milliseconds. */
  readonly expiresAt: number;
  /** The thing RegisterThing registered with it, once it did. */
  registeredThing?: string;
}

export interface CreateTemplateInput {
  readonly templateName: string;
  readonly templateBody: string;
  readonly provisioningRoleArn: string;
  readonly description?: string;
  readonly enabled?: boolean;
  readonly type?: TemplateType;
  readonly preProvisioningHook?: ProvisioningHookConfig;
  readonly tags?: Array<{ Key: string; Value?: string }>;
}

export interface UpdateTemplateInput {
  readonly description?: string;
  readonly enabled?: boolean;
  readonly defaultVersionId?: number;
  readonly provisioningRoleArn?: string;
  readonly preProvisioningHook?: ProvisioningHookConfig;
  readonly removePreProvisioningHook?: boolean;
}

/** Runs a hook function synchronously; resolves to its answer or the reason it failed. */
export type InvokeHook = (
  functionArn: string,
  event: unknown,
) => Promise<{ readonly payload?: unknown; readonly error?: string }>;

export interface ProvisioningServiceOptions {
  readonly bus: MessageBus;
  readonly registry: IotRegistry;
  readonly invokeHook: InvokeHook;
  readonly identity: CloudIdentity;
  /** Templates and ownership tokens live in `<stateDir>/provisioning/`. */
  readonly stateDir: string;
  readonly logger: LocalLogger;
  /** Clock in epoch milliseconds; for tests. */
  readonly now?: () => number;
  /** Ownership token lifetime; AWS: one hour. */
  readonly tokenTtlMs?: number;
  /** The hook's time budget; AWS: 5 seconds. */
  readonly hookTimeoutMs?: number;
}

/** The typed control plane, for the deployer and tests; errors are AwsServiceError as over HTTP. */
export interface ProvisioningTemplates {
  create(input: CreateTemplateInput): ProvisioningTemplateRecord;
  describe(templateName: string): ProvisioningTemplateRecord;
  list(): ProvisioningTemplateRecord[];
  update(templateName: string, input: UpdateTemplateInput): void;
  delete(templateName: string): void;
  createVersion(templateName: string, templateBody: string, setAsDefault: boolean): TemplateVersion;
  deleteVersion(templateName: string, versionId: number): void;
}

export interface ProvisioningService {
  /** The `iot` control-plane operations on provisioning templates, for the gateway. */
  readonly route: ServiceRoute;
  readonly templates: ProvisioningTemplates;
  /** Deletes certificates whose ownership token expired unused, and the expired tokens. */
  sweep(): number;
  close(): Promise<void>;
}
