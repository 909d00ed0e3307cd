import type { CloudIdentity, LocalLogger } from '../common';
import type { ResolvedResource } from './intrinsics';

export type DeployStatus = 'created' | 'updated' | 'unchanged' | 'not emulated' | 'removed';

export interface DeployedResource extends ResolvedResource {
  readonly type: string;
  readonly propsHash: string;
}

export interface ApplyRequest {
  readonly stackName: string;
  readonly logicalId: string;
  readonly type: string;
  readonly properties: Record<string, unknown>;
  readonly metadata: Record<string, unknown>;
  /** Name CloudFormation would generate for a resource the template leaves unnamed. */
  physicalName(maxLength: number, separator?: string): string;
  /** The resource as last deployed, if it was. */
  readonly previous?: DeployedResource;
  /** True when the resolved properties are the same as last deploy. */
  readonly unchanged: boolean;
  /**
   * The resource's UpdateReplacePolicy is Retain: a provider that replaces the resource keeps
   * the old physical resource as it is (CloudFormation User Guide, "UpdateReplacePolicy
   * attribute") instead of retiring it.
   */
  readonly retainOnReplace?: boolean;
  /** Staged asset directory for a Lambda code object key. */
  assetPath(objectKey: string): string | undefined;
}

export interface ApplyResult extends ResolvedResource {
  /** 'not emulated' for accepted resources that have no local effect. */
  readonly emulated: boolean;
  /** Extra detail for the report, e.g. "IAM is not enforced locally". */
  readonly note?: string;
}

export interface ResourceProvider {
  apply(request: ApplyRequest): Promise<ApplyResult>;
  remove?(resource: DeployedResource & { logicalId: string; stackName: string }): Promise<void>;
}

export interface ReportLine {
  readonly stackName: string;
  readonly logicalId: string;
  readonly type: string;
  readonly status: DeployStatus;
  readonly physicalId: string;
  readonly note?: string;
}

export interface DeployResult {
  readonly report: ReportLine[];
  readonly outputs: Record<string, Record<string, unknown>>;
}

export interface DeployerOptions {
  readonly stateDir: string;
  readonly identity: CloudIdentity;
  readonly logger: LocalLogger;
  /** Provider per resource type; `fallback` handles every other type (not emulated). */
  readonly providers: Readonly<Record<string, ResourceProvider>>;
  readonly fallback: ResourceProvider;
  /**
   * The value of a Secrets Manager secret for `{{resolve:secretsmanager:...}}` dynamic
   * references in resource properties. @default - dynamic references fail the deploy
   */
  readonly secretValue?: (secretId: string) => string;
}
