/**
 * The secrets, in `secrets.json` under the service's directory (a StateFile: written
 * atomically, mode 0600, the previous version kept as `secrets.json.last-good`). Each keeps only
 * its current version (AWSCURRENT).
 *
 * A damaged `secrets.json` (not JSON, `null`, empty, the wrong shape) is replaced by its
 * last-good copy at start, and the log says so (the last change to the secrets is lost); without
 * a usable copy the cloud refuses to start, naming the file, rather than start without secrets
 * a deployed stack refers to.
 */
import { chmodSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { type LocalLogger, StateFile } from '../common';
import type { SecretRecord } from './types';

const SecretSchema = z.looseObject({
  arn: z.string().min(1),
  name: z.string().min(1),
  description: z.string().optional(),
  versionId: z.string().min(1),
  secretString: z.string().optional(),
  createdDate: z.number(),
});

const FileSchema = z.object({ secrets: z.array(SecretSchema) });

export class SecretStore {
  private readonly file: StateFile<{ secrets: SecretRecord[] }>;

  constructor(dir: string, logger: LocalLogger) {
    this.file = StateFile.open({
      path: join(dir, 'secrets.json'),
      schema: FileSchema as unknown as z.ZodType<{ secrets: SecretRecord[] }>,
      initial: () => ({ secrets: [] }),
      what: 'the Secrets Manager secrets',
      logger,
      whenUnusable: 'refuse',
      mode: 0o600,
    });
  }

  find(secretId: string): SecretRecord | undefined {
    return this.file.value.secrets.find((s) => s.arn === secretId || s.name === secretId);
  }

  put(record: SecretRecord): void {
    this.file.value.secrets = [...this.file.value.secrets.filter((s) => s.arn !== record.arn), record];
    this.save();
  }

  delete(arn: string): void {
    this.file.value.secrets = this.file.value.secrets.filter((s) => s.arn !== arn);
    this.save();
  }

  private save(): void {
    this.file.save();
    if (existsSync(this.file.path)) chmodSync(this.file.path, 0o600);
  }
}
