/**
 * The IoT registry's persistence: one JSON document under `<stateDir>/iot/registry.json` with
 * every thing, policy, certificate, attachment, topic rule and data endpoint, written whole on
 * every change (write-to-temp, fsync, rename), plus the change events the broker listens to.
 */
import { join } from 'node:path';
import { type CloudIdentity, errorText, iotArn, JsonFile, type LocalLogger } from '../common';
import type { RegistryEvent, StoredCertificate, StoredPolicy, ThingRecord, TopicRuleRecord } from './types';

export const REGISTRY_FILE = 'registry.json';

export interface ThingPrincipalLink {
  readonly thingName: string;
  readonly principal: string;
  readonly exclusive: boolean;
}

export interface PolicyTargetLink {
  readonly policyName: string;
  readonly target: string;
}

export interface RegistryState {
  things: Record<string, ThingRecord>;
  policies: Record<string, StoredPolicy>;
  certificates: Record<string, StoredCertificate>;
  thingPrincipals: ThingPrincipalLink[];
  policyTargets: PolicyTargetLink[];
  rules: Record<string, TopicRuleRecord>;
  endpoints: Record<string, string>;
}

export class RegistryStore {
  private readonly listeners = new Set<(event: RegistryEvent) => void>();

  private constructor(
    private readonly file: JsonFile<RegistryState>,
    private readonly identity: CloudIdentity,
    readonly logger: LocalLogger,
  ) {}

  static open(stateDir: string, identity: CloudIdentity, logger: LocalLogger): RegistryStore {
    const file = JsonFile.open<RegistryState>(join(stateDir, 'iot', REGISTRY_FILE), () => ({
      things: {},
      policies: {},
      certificates: {},
      thingPrincipals: [],
      policyTargets: [],
      rules: {},
      endpoints: {},
    }));
    return new RegistryStore(file, identity, logger);
  }

  get state(): RegistryState {
    return this.file.value;
  }

  /** Applies a change to the document and writes it. */
  update(change: (state: RegistryState) => void): void {
    this.file.update(change);
  }

  arn(type: string, name: string): string {
    return iotArn(this.identity, type, name);
  }

  on(listener: (event: RegistryEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: RegistryEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch (err) {
        this.logger.error(`registry listener failed: ${errorText(err)}`);
      }
    }
  }
}

export const sortBy = <T>(items: T[], key: (t: T) => string | number) =>
  items.sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
