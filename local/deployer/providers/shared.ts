/** Small helpers the resource providers share: property reading, ARNs, hashing. */
import { createHash } from 'node:crypto';
import type { CloudIdentity, LocalLogger } from '../../common';
import type { IotRegistry } from '../../iot';
import type { LambdaService } from '../../lambda';
import type { ProvisioningTemplates } from '../../provisioning';
import type { RulesService } from '../../rules';
import type { SqsService } from '../../sqs';
import type { TimestreamService } from '../../timestream';

export interface LocalServices {
  readonly identity: CloudIdentity;
  readonly logger: LocalLogger;
  readonly iot: IotRegistry;
  readonly rules: RulesService;
  readonly sqs: SqsService;
  readonly lambda: LambdaService;
  readonly timestream: TimestreamService;
  readonly provisioning: ProvisioningTemplates;
  /** The cloud assembly directory, for `aws:asset:path` metadata. */
  readonly assemblyDir: string;
}

export type Props = Record<string, unknown>;
export const str = (v: unknown) => (v === undefined || v === null ? undefined : String(v));
export const num = (v: unknown) => (v === undefined || v === null || v === '' ? undefined : Number(v));

/** The result of `fn`, or undefined when it throws (a resource that is already gone). */
export function safe<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}

export function hashText(text: string | undefined): string {
  return createHash('sha256')
    .update(text ?? '')
    .digest('hex');
}
