/**
 * Durable shadow store: every thing's classic (key "") and named shadows in memory, kept on disk
 * as a CheckpointedLog under `<stateDir>/shadow/`: each update or delete is one record appended
 * to `shadows.log` (group commit: the updates of one event-loop turn share one fdatasync, on
 * libuv's thread pool, so the event loop keeps serving while the disk works), and now and then
 * every shadow is written to `shadows.checkpoint.json` and the log drops what the previous
 * checkpoint held. A change costs one appended line at any fleet size.
 *
 * `put()` resolves once the change is on disk; the service answers (and announces the update)
 * only then, so an accepted update survives a crash. A full disk holds the change in memory and
 * `put()` throws a StorageUnavailableError after a few seconds: the service refuses the request
 * rather than acknowledge what a crash could take back.
 *
 * A damaged log line is quarantined (that change is lost, and said so); a damaged checkpoint
 * falls back to its last-good copy and the log's changes since; with neither usable the cloud
 * refuses to start rather than answer devices with an empty shadow and version 1.
 *
 * State dirs written before this layout hold one `<thing>.json` per thing (with its last-good
 * copy): they are read at start, written into the checkpoint, and removed.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { CheckpointedLog, LAST_GOOD_SUFFIX, type LocalLogger, StateFile } from '../common';
import type { StoredShadow } from './document';

/** The classic (unnamed) shadow's key. */
export const CLASSIC = '';

export const SHADOW_LOG_FILE = 'shadows.log';
/** A dot in the name: no thing's file of the earlier layout can be called this. */
export const SHADOW_CHECKPOINT_FILE = 'shadows.checkpoint.json';

/** How long an update waits for a disk that refuses it before it is refused. */
const DURABLE_TIMEOUT_MS = 5_000;

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

const ShadowsSchema = z.record(z.string(), ShadowSchema);

const CheckpointSchema = z.object({
  things: z.record(z.string(), ShadowsSchema),
  seq: z.number().int().nonnegative().optional(),
});
type Checkpoint = { things: Record<string, Record<string, StoredShadow>>; seq?: number | undefined };

/** One change: thing `t`'s shadow `n` ("" for the classic one) is now `v`. */
const ChangeSchema = z.object({
  s: z.number().int(),
  t: z.string().min(1),
  n: z.string(),
  v: ShadowSchema,
});
type Change = { s: number; t: string; n: string; v: StoredShadow };

/** A thing's file of the earlier layout. */
const LegacyFileSchema = z.object({ shadows: ShadowsSchema });
const LEGACY_FILE = /^([a-zA-Z0-9:_-]{1,128})\.json$/;
const LEGACY_LAST_GOOD = /^([a-zA-Z0-9:_-]{1,128})\.json\.last-good$/;

export class ShadowStore {
  private readonly things = new Map<string, Map<string, StoredShadow>>();
  private count = 0;
  private persistence!: CheckpointedLog<Checkpoint, Change>;

  private constructor(
    private readonly dir: string,
    private readonly logger: LocalLogger,
  ) {}

  /** Reads the checkpoint, the log and any files of the earlier layout. */
  static async open(dir: string, logger: LocalLogger): Promise<ShadowStore> {
    const store = new ShadowStore(dir, logger);
    const used = existsSync(dir);
    const legacy = store.readLegacyFiles();
    const {
      store: persistence,
      checkpoint,
      changes,
    } = CheckpointedLog.open<Checkpoint, Change>({
      dir,
      checkpointFile: SHADOW_CHECKPOINT_FILE,
      logFile: SHADOW_LOG_FILE,
      checkpointSchema: CheckpointSchema as unknown as z.ZodType<Checkpoint>,
      changeSchema: ChangeSchema as unknown as z.ZodType<Change>,
      initial: () => ({ things: {} }),
      what: 'the device shadows',
      logger,
      // The log is made at the first start; a used dir without it has lost it (a dir of the
      // earlier layout has none yet).
      logMustExist: existsSync(join(dir, SHADOW_CHECKPOINT_FILE)) || (used && legacy.length === 0),
      snapshot: () => store.snapshot(),
      entries: () => store.count,
    });
    store.persistence = persistence;
    for (const [thing, shadows] of Object.entries(checkpoint.things)) {
      for (const [name, shadow] of Object.entries(shadows)) store.set(thing, name, shadow);
    }
    for (const c of changes) store.set(c.t, c.n, c.v);
    if (legacy.length > 0) await store.migrate(legacy);
    return store;
  }

  get(thingName: string, shadowName: string): StoredShadow | undefined {
    return this.things.get(thingName)?.get(shadowName);
  }

  /**
   * Stores a shadow: readers see it at once; resolves once it is on disk. Throws a
   * StorageUnavailableError when the disk refuses it for a few seconds (the change stays in
   * memory and is written once the disk has room).
   */
  async put(thingName: string, shadowName: string, shadow: StoredShadow): Promise<void> {
    this.set(thingName, shadowName, shadow);
    const write = this.persistence.record({ t: thingName, n: shadowName, v: shadow });
    await this.persistence.written(write, DURABLE_TIMEOUT_MS);
  }

  /** Names of the thing's named shadows that exist (not deleted), sorted. */
  namedShadows(thingName: string): string[] {
    const shadows = this.things.get(thingName);
    if (!shadows) return [];
    return [...shadows]
      .filter(([name, s]) => name !== CLASSIC && !s.deleted)
      .map(([name]) => name)
      .sort();
  }

  /** Writes every shadow as the checkpoint now. */
  checkpoint(): Promise<void> {
    return this.persistence.checkpoint();
  }

  /** Writes what is pending and closes the log. */
  close(): Promise<void> {
    return this.persistence.close();
  }

  private set(thingName: string, shadowName: string, shadow: StoredShadow): void {
    let shadows = this.things.get(thingName);
    if (!shadows) {
      shadows = new Map();
      this.things.set(thingName, shadows);
    }
    if (!shadows.has(shadowName)) this.count++;
    shadows.set(shadowName, shadow);
  }

  private snapshot(): Checkpoint {
    const things: Checkpoint['things'] = {};
    for (const [thing, shadows] of this.things) things[thing] = Object.fromEntries(shadows);
    return { things };
  }

  /**
   * The things' files of the earlier layout, read as before (a damaged one from its last-good
   * copy; with neither usable the start is refused). Their shadows are put in memory first, so
   * the checkpoint and log, which are newer, win.
   */
  private readLegacyFiles(): string[] {
    if (!existsSync(this.dir)) return [];
    const names = new Set<string>();
    for (const f of readdirSync(this.dir)) {
      const m = LEGACY_FILE.exec(f) ?? LEGACY_LAST_GOOD.exec(f);
      if (m) names.add(m[1]!);
    }
    const things = [...names].sort();
    for (const thing of things) {
      const file = StateFile.open<{ shadows: Record<string, StoredShadow> }>({
        path: join(this.dir, `${thing}.json`),
        schema: LegacyFileSchema as unknown as z.ZodType<{ shadows: Record<string, StoredShadow> }>,
        initial: () => ({ shadows: {} }),
        what: `the shadows of thing ${thing}`,
        logger: this.logger,
        whenUnusable: 'refuse',
        restoreNote: 'the last change to these shadows is lost; devices send their reported state again',
      });
      for (const [name, shadow] of Object.entries(file.value.shadows)) this.set(thing, name, shadow);
    }
    return things;
  }

  /** Writes the shadows of the earlier layout's files into the checkpoint, then removes them. */
  private async migrate(things: readonly string[]): Promise<void> {
    await this.persistence.checkpoint();
    for (const thing of things) {
      const path = join(this.dir, `${thing}.json`);
      rmSync(path, { force: true });
      rmSync(`${path}${LAST_GOOD_SUFFIX}`, { force: true });
    }
    this.logger.info(
      `moved the shadows of ${things.length} thing(s) from one file per thing into ${SHADOW_CHECKPOINT_FILE}`,
    );
  }
}
