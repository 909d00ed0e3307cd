/**
 * Durable shadow store: one JSON file per thing under `<stateDir>/shadow/`, holding its classic
 * shadow (key "") and named shadows, rewritten whole on every change (write-to-temp, fsync,
 * rename). Thing names are limited to `[a-zA-Z0-9:_-]`, so they are safe file names.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { JsonFile } from '../common';
import type { StoredShadow } from './document';

/** The classic (unnamed) shadow's key. */
export const CLASSIC = '';

interface ThingShadows {
  shadows: Record<string, StoredShadow>;
}

export class ShadowStore {
  private readonly files = new Map<string, JsonFile<ThingShadows>>();

  constructor(private readonly dir: string) {}

  private file(thingName: string): JsonFile<ThingShadows> {
    let f = this.files.get(thingName);
    if (!f) {
      f = JsonFile.open<ThingShadows>(join(this.dir, `${thingName}.json`), () => ({ shadows: {} }));
      this.files.set(thingName, f);
    }
    return f;
  }

  get(thingName: string, shadowName: string): StoredShadow | undefined {
    return this.file(thingName).value.shadows[shadowName];
  }

  put(thingName: string, shadowName: string, shadow: StoredShadow): void {
    this.file(thingName).update((v) => {
      v.shadows[shadowName] = shadow;
    });
  }

  /** Names of the thing's named shadows that exist (not deleted), sorted. */
  namedShadows(thingName: string): string[] {
    if (!this.files.has(thingName) && !existsSync(join(this.dir, `${thingName}.json`))) return [];
    return Object.entries(this.file(thingName).value.shadows)
      .filter(([name, s]) => name !== CLASSIC && !s.deleted)
      .map(([name]) => name)
      .sort();
  }

  /** Things that have a shadow file; for diagnostics. */
  things(): string[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.slice(0, -'.json'.length));
  }
}
