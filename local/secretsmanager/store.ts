/**
 * The secrets, in `secrets.json` under the service's directory (written atomically, mode
 * 0600). Each keeps only its current version (AWSCURRENT).
 */
import { chmodSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { JsonFile } from '../common';
import type { SecretRecord } from './types';

export class SecretStore {
  private readonly file: JsonFile<{ secrets: SecretRecord[] }>;

  constructor(dir: string) {
    this.file = JsonFile.open(join(dir, 'secrets.json'), () => ({ secrets: [] }));
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
