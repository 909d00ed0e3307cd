/**
 * The provisioning service's durable state, in its own file (`<stateDir>/provisioning/
 * state.json`, write-to-temp, fsync, rename): provisioning templates with their versions, and
 * the certificate ownership tokens handed out and not yet expired.
 */
import { join } from 'node:path';
import { JsonFile } from '../common';
import type { OwnershipToken, ProvisioningTemplateRecord } from './types';

interface State {
  templates: Record<string, ProvisioningTemplateRecord>;
  tokens: Record<string, OwnershipToken>;
}

export class ProvisioningStore {
  private constructor(private readonly file: JsonFile<State>) {}

  static open(stateDir: string): ProvisioningStore {
    return new ProvisioningStore(
      JsonFile.open<State>(join(stateDir, 'provisioning', 'state.json'), () => ({
        templates: {},
        tokens: {},
      })),
    );
  }

  get templates(): Record<string, ProvisioningTemplateRecord> {
    return this.file.value.templates;
  }

  get tokens(): Record<string, OwnershipToken> {
    return this.file.value.tokens;
  }

  update(change: (state: State) => void): void {
    this.file.update(change);
  }
}
