/**
 * Secrets Manager dynamic references in resource properties (AWS CloudFormation User Guide,
 * "Get values stored in other services using dynamic references", Secrets Manager):
 * `{{resolve:secretsmanager:<secret-id>:SecretString:<json-key>:<version-stage>:<version-id>}}`,
 * where secret-id is a name or an ARN and the later parts are optional. CloudFormation resolves
 * them when it creates or updates the resource and never shows the value; so does the deployer.
 *
 * LIMITATIONS versus AWS: only `secretsmanager` references (no `ssm`, `ssm-secure`); version
 * stage and id are ignored (a local secret has one version).
 */
import { IntrinsicError } from './errors';

const REFERENCE =
  /\{\{resolve:secretsmanager:(arn:[^:}]+:secretsmanager:[^:}]+:[^:}]+:secret:[^:}]+|[^:}]+)(?::SecretString)?(?::([^:}]*))?(?::[^:}]*)?(?::[^:}]*)?\}\}/g;

export function resolveDynamicReferences(
  value: unknown,
  secretValue: ((secretId: string) => string) | undefined,
  where: string,
): unknown {
  if (typeof value === 'string') {
    if (!value.includes('{{resolve:')) return value;
    if (/\{\{resolve:(ssm|ssm-secure):/.test(value)) {
      throw new IntrinsicError(`${where}: SSM dynamic references are not supported by the local deployer`);
    }
    return value.replace(REFERENCE, (_whole, secretId: string, jsonKey: string | undefined) => {
      if (!secretValue) throw new IntrinsicError(`${where}: no local Secrets Manager to resolve ${secretId}`);
      let text: string;
      try {
        text = secretValue(secretId);
      } catch (err) {
        throw new IntrinsicError(`${where}: secret ${secretId} cannot be read: ${(err as Error).message}`);
      }
      if (!jsonKey) return text;
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new IntrinsicError(`${where}: secret ${secretId} is not JSON, so it has no key ${jsonKey}`);
      }
      const field = (parsed as Record<string, unknown>)[jsonKey];
      if (typeof field !== 'string')
        throw new IntrinsicError(`${where}: secret ${secretId} has no string key ${jsonKey}`);
      return field;
    });
  }
  if (Array.isArray(value))
    return value.map((v, i) => resolveDynamicReferences(v, secretValue, `${where}[${i}]`));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, resolveDynamicReferences(v, secretValue, `${where}.${k}`)]),
    );
  }
  return value;
}
