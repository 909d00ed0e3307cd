import type { CloudIdentity, LocalLogger } from '../common';
import type { ServiceRoute } from '../gateway';

export interface SecretsManagerServiceOptions {
  readonly dir: string;
  readonly identity: CloudIdentity;
  readonly logger: LocalLogger;
}

export interface SecretRecord {
  readonly arn: string;
  readonly name: string;
  readonly description?: string;
  readonly versionId: string;
  readonly secretString?: string;
  readonly createdDate: number;
}

/** GenerateSecretString of AWS::SecretsManager::Secret and GetRandomPassword. */
export interface GenerateOptions {
  readonly SecretStringTemplate?: string;
  readonly GenerateStringKey?: string;
  readonly PasswordLength?: number;
  readonly ExcludeCharacters?: string;
  readonly ExcludePunctuation?: boolean;
  readonly ExcludeNumbers?: boolean;
  readonly ExcludeLowercase?: boolean;
  readonly ExcludeUppercase?: boolean;
  readonly IncludeSpace?: boolean;
}

export interface SecretsManagerService {
  readonly route: ServiceRoute;
  /** Creates a secret or, if the name exists, returns it unchanged (the deployer's path). */
  createSecret(input: { name: string; description?: string; secretString: string }): SecretRecord;
  putSecretValue(secretId: string, secretString: string): SecretRecord;
  getSecretValue(secretId: string): SecretRecord;
  deleteSecret(secretId: string): void;
  /** A random string as GenerateSecretString describes it. */
  generate(options: GenerateOptions): string;
  close(): Promise<void>;
}
