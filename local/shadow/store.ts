/**
 * Durable shadow store: one JSON file per thing under `<stateDir>/shadow/`, holding its classic
 * shadow (key "") and named shadows, rewritten whole on every change (a StateFile: temp file,
 * fsync, rename, with the previous version kept as `<thing>.json.last-good`). Thing names are
 * limited to `[a-zA-Z0-9:_-]`, so they are safe file names.
 *
 * Every shadow file is read and checked when the service starts, so a damaged one is found
 * then, not at a device's first shadow request: a file that is not JSON, `null`, empty or of
 * the wrong shape is replaced by its last-good copy (the log names the file and that the last
 * change to that thing's shadows is lost); without a usable copy the cloud refuses to start,
 * naming the file, rather than answer devices with an empty shadow and version 1.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { type LocalLogger, StateFile } from '../common';
import type { StoredShadow } from './document';

/** The classic (unnamed) shadow's key. */
export const CLASSIC = '';

const ShadowSchema = z.looseObject({
  desired: z.record(z.string(), z.unknown()).optional(),
  reported: z.record(z.string(), z.unknown()).optional(),
  metadata: z.looseObject({
    desired: z.record(z.string(), z.unknown()).optional(),
    reported: z.record(z.string(), z.unknown()).optional(),
  }),
  version: z.number().int().nonnegative(),
  timestamp: z.number(),
  deleted: z.boolean(),
});

const ThingShadowsSchema = z.object({ shadows: z.record(z.string(), ShadowSchema) });

interface ThingShadows {
  shadows: Record<string, StoredShadow>;
}

const FILE_SUFFIX = '.json';

export class ShadowStore {
  private readonly files = new Map<string, StateFile<ThingShadows>>();

  constructor(
    private readonly dir: string,
    private readonly logger: LocalLogger,
  ) {
    // Read every file now, so damage is reported (or refused) at start.
    for (const thing of this.things()) this.file(thing);
  }

  private file(thingName: string): StateFile<ThingShadows> {
    let f = this.files.get(thingName);
    if (!f) {
      f = StateFile.open<ThingShadows>({
        path: join(this.dir, `${thingName}${FILE_SUFFIX}`),
        schema: ThingShadowsSchema as unknown as z.ZodType<ThingShadows>,
        initial: () => ({ shadows: {} }),
        what: `the shadows of thing ${thingName}`,
        logger: this.logger,
        whenUnusable: 'refuse',
        restoreNote: 'the last change to these shadows is lost; devices send their reported state again',
      });
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
    if (!this.files.has(thingName) && !existsSync(join(this.dir, `${thingName}${FILE_SUFFIX}`))) return [];
    return Object.entries(this.file(thingName).value.shadows)
      .filter(([name, s]) => name !== CLASSIC && !s.deleted)
      .map(([name]) => name)
      .sort();
  }

  /** Things that have a shadow file (or only its last-good copy). */
  things(): string[] {
    if (!existsSync(this.dir)) return [];
    const names = new Set<string>();
    for (const f of readdirSync(this.dir)) {
      if (f.endsWith(FILE_SUFFIX)) names.add(f.slice(0, -FILE_SUFFIX.length));
      else if (f.endsWith(`${FILE_SUFFIX}.last-good`))
        names.add(f.slice(0, -`${FILE_SUFFIX}.last-good`.length));
    }
    return [...names].filter((n) => /^[a-zA-Z0-9:_-]{1,128}$/.test(n)).sort();
  }
}
