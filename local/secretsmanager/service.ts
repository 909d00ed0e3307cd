/**
 * Local stand-in for AWS Secrets Manager: the JSON 1.1 API (target prefix `secretsmanager`)
 * for CreateSecret, GetSecretValue, PutSecretValue, DescribeSecret, DeleteSecret and
 * GetRandomPassword (AWS Secrets Manager API Reference, each operation's page), and the
 * deployer's calls for AWS::SecretsManager::Secret with GenerateSecretString.
 *
 * LIMITATIONS versus AWS: one version per secret (AWSCURRENT; no VersionStage, staging or
 * ClientRequestToken idempotency), no KMS encryption (the file under the state dir is
 * mode 0600), no rotation, resource policies, replication or tags; DeleteSecret removes at once.
 */
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { arn } from '../common';
import type { AwsRequest } from '../gateway';
import { invalidParameter, invalidRequest, secretExists, secretNotFound } from './errors';
import { SecretStore } from './store';
import type {
  GenerateOptions,
  SecretRecord,
  SecretsManagerService,
  SecretsManagerServiceOptions,
} from './types';

const PREFIX = 'secretsmanager.';
const PUNCTUATION = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';

export async function createSecretsManagerService(
  o: SecretsManagerServiceOptions,
): Promise<SecretsManagerService> {
  mkdirSync(o.dir, { recursive: true });
  const store = new SecretStore(o.dir, o.logger);

  const require = (secretId: unknown): SecretRecord => {
    if (typeof secretId !== 'string' || secretId === '') throw invalidParameter('SecretId is required');
    const found = store.find(secretId);
    if (!found) throw secretNotFound();
    return found;
  };

  const service: SecretsManagerService = {
    route: {
      name: 'secretsmanager',
      protocol: 'json-1.1',
      matches: (req: AwsRequest) => (req.target ?? '').startsWith(PREFIX),
      async handle(req) {
        const op = (req.target ?? '').slice(PREFIX.length);
        const input = (req.body.length > 0 ? JSON.parse(req.body.toString('utf8')) : {}) as Record<
          string,
          unknown
        >;
        const describe = (s: SecretRecord) => ({
          ARN: s.arn,
          Name: s.name,
          Description: s.description,
          CreatedDate: s.createdDate / 1000,
        });
        switch (op) {
          case 'GetSecretValue': {
            const s = require(input.SecretId);
            if (s.secretString === undefined) throw secretNotFound();
            return {
              status: 200,
              body: {
                ARN: s.arn,
                Name: s.name,
                VersionId: s.versionId,
                SecretString: s.secretString,
                VersionStages: ['AWSCURRENT'],
                CreatedDate: s.createdDate / 1000,
              },
            };
          }
          case 'PutSecretValue': {
            if (typeof input.SecretString !== 'string')
              throw invalidParameter('SecretString is required (SecretBinary is not supported locally)');
            const s = service.putSecretValue(String(input.SecretId ?? ''), input.SecretString);
            return {
              status: 200,
              body: { ARN: s.arn, Name: s.name, VersionId: s.versionId, VersionStages: ['AWSCURRENT'] },
            };
          }
          case 'CreateSecret': {
            if (typeof input.Name !== 'string' || input.Name === '')
              throw invalidParameter('Name is required');
            if (store.find(input.Name)) throw secretExists(input.Name);
            const s = service.createSecret({
              name: input.Name,
              secretString: typeof input.SecretString === 'string' ? input.SecretString : '',
              ...(typeof input.Description === 'string' ? { description: input.Description } : {}),
            });
            return { status: 200, body: { ARN: s.arn, Name: s.name, VersionId: s.versionId } };
          }
          case 'DescribeSecret':
            return { status: 200, body: describe(require(input.SecretId)) };
          case 'DeleteSecret': {
            const s = require(input.SecretId);
            store.delete(s.arn);
            return { status: 200, body: { ARN: s.arn, Name: s.name, DeletionDate: Date.now() / 1000 } };
          }
          case 'GetRandomPassword':
            return { status: 200, body: { RandomPassword: service.generate(input as GenerateOptions) } };
          default:
            throw invalidRequest(`The local Secrets Manager does not implement ${op}`);
        }
      },
    },
    createSecret(input) {
      const existing = store.find(input.name);
      if (existing) return existing;
      const record: SecretRecord = {
        arn: arn(o.identity, 'secretsmanager', `secret:${input.name}-${randomBytes(3).toString('hex')}`),
        name: input.name,
        ...(input.description ? { description: input.description } : {}),
        versionId: randomUUID(),
        secretString: input.secretString,
        createdDate: Date.now(),
      };
      store.put(record);
      return record;
    },
    putSecretValue(secretId, secretString) {
      const s = require(secretId);
      const record = { ...s, versionId: randomUUID(), secretString };
      store.put(record);
      return record;
    },
    getSecretValue: (secretId) => require(secretId),
    deleteSecret(secretId) {
      const s = store.find(secretId);
      if (s) store.delete(s.arn);
    },
    generate(g) {
      const length = g.PasswordLength ?? 32;
      if (!Number.isInteger(length) || length < 1 || length > 4096) {
        throw invalidParameter('PasswordLength must be 1-4096');
      }
      let chars = '';
      if (!g.ExcludeLowercase) chars += 'abcdefghijklmnopqrstuvwxyz';
      if (!g.ExcludeUppercase) chars += 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
      if (!g.ExcludeNumbers) chars += '0123456789';
      if (!g.ExcludePunctuation) chars += PUNCTUATION;
      if (g.IncludeSpace) chars += ' ';
      const excluded = new Set(g.ExcludeCharacters ?? '');
      const pool = [...chars].filter((c) => !excluded.has(c));
      if (pool.length === 0)
        throw invalidParameter('the exclusions leave no characters to make a password from');
      const value = Array.from({ length }, () => pool[randomInt(pool.length)]).join('');
      if (!g.GenerateStringKey) return value;
      let template: Record<string, unknown> = {};
      try {
        template = JSON.parse(g.SecretStringTemplate ?? '{}') as Record<string, unknown>;
      } catch {
        throw invalidParameter('SecretStringTemplate is not JSON');
      }
      return JSON.stringify({ ...template, [g.GenerateStringKey]: value });
    },
    async close() {},
  };
  return service;
}
