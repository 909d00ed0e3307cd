/**
 * A store kept in memory and made durable at a cost per change that does not grow with its
 * size: each change is one record appended to a change log (an AppendLog: group commit,
 * checksums, quarantine), and now and then the whole store is written as a checkpoint (a
 * StateFile: atomic, schema-checked, with a last-good copy) and the log drops what the previous
 * checkpoint already held. The IoT registry and the Device Shadow service keep their state this
 * way.
 *
 * Every change carries a sequence number `s`; the checkpoint carries the last one it includes
 * (`seq`). Opening reads the checkpoint and hands back the log's later changes in order, so the
 * owner applies each once. The log keeps every change since the last-good checkpoint, so a
 * damaged checkpoint falls back to the last-good one and loses nothing; with neither usable,
 * the cloud refuses to start rather than forget the store.
 *
 * `record()` resolves once its change is on disk, and `durable()` once every change so far is:
 * an owner answers after it, so an acknowledged change survives a crash. A change the disk
 * refuses (full, read-only) stays in memory, where the owner already shows it, and is written
 * again every second until it succeeds; its sequence number makes its late place in the file
 * harmless. `durable(timeoutMs)` then throws a StorageUnavailableError, which the owner
 * reports instead of acknowledging.
 */
import { join } from 'node:path';
import type { z } from 'zod';
import { AppendLog } from './append-log';
import { StorageUnavailableError } from './durable-fs';
import { errorText, type LocalLogger } from './log';
import { StateFile } from './state-file';

export interface Sequenced {
  readonly s: number;
}

export interface CheckpointedLogOptions<S extends { seq?: number | undefined }, C extends Sequenced> {
  readonly dir: string;
  /** The checkpoint's file name in `dir` (JSON). */
  readonly checkpointFile: string;
  /** The change log's file name in `dir`. */
  readonly logFile: string;
  readonly checkpointSchema: z.ZodType<S>;
  readonly changeSchema: z.ZodType<C>;
  readonly initial: () => S;
  /** What the store holds, for messages: "the IoT registry (things, ...)". */
  readonly what: string;
  readonly logger: LocalLogger;
  /**
   * The log must exist (the store was used before): a missing log is reported as lost
   * changes rather than taken as an empty one.
   */
  readonly logMustExist?: boolean;
  /** The whole store, as the next checkpoint; `seq` is filled in. */
  readonly snapshot: () => S;
  /** Entries in the store, for the checkpoint threshold. */
  readonly entries: () => number;
  /** Log records past this count (and past the number of entries) make a checkpoint. */
  readonly checkpointMinRecords?: number;
}

export interface OpenedCheckpointedLog<S extends { seq?: number | undefined }, C extends Sequenced> {
  readonly store: CheckpointedLog<S, C>;
  /** The checkpoint (or its last-good copy, or the initial value). */
  readonly checkpoint: S;
  /** The log's changes after the checkpoint, in sequence order. */
  readonly changes: C[];
}

const DEFAULT_CHECKPOINT_MIN_RECORDS = 5_000;
/** How long to wait before writing a change again that the disk refused. */
const WRITE_RETRY_MS = 1_000;

export class CheckpointedLog<S extends { seq?: number | undefined }, C extends Sequenced> {
  private seq: number;
  /** Changes not yet on disk (a full disk keeps them here, retried every second). */
  private readonly writing = new Set<Promise<void>>();
  private closed = false;
  private checkpointing = false;

  private constructor(
    private readonly file: StateFile<S>,
    private readonly log: AppendLog<C>,
    private readonly options: CheckpointedLogOptions<S, C>,
  ) {
    this.seq = file.value.seq ?? 0;
  }

  static open<S extends { seq?: number | undefined }, C extends Sequenced>(
    options: CheckpointedLogOptions<S, C>,
  ): OpenedCheckpointedLog<S, C> {
    const file = StateFile.open<S>({
      path: join(options.dir, options.checkpointFile),
      schema: options.checkpointSchema,
      initial: options.initial,
      what: options.what,
      logger: options.logger,
      whenUnusable: 'refuse',
      restoreNote: `the changes made since then are applied again from ${options.logFile}`,
    });
    const { log, records } = AppendLog.open({
      path: join(options.dir, options.logFile),
      schema: options.changeSchema,
      what: `the change log of ${options.what}`,
      logger: options.logger,
      ...(options.logMustExist
        ? { missingLoses: `every change since the last checkpoint (${options.checkpointFile})` }
        : {}),
    });
    const store = new CheckpointedLog(file, log, options);
    const from = store.seq;
    // A change retried after a full disk may follow later ones in the file: apply in order.
    const changes = records.filter((c) => c.s > from).sort((a, b) => a.s - b.s);
    for (const c of changes) store.seq = Math.max(store.seq, c.s);
    return { store, checkpoint: file.value, changes };
  }

  /** Changes recorded since the log was last rewritten. */
  get logRecords(): number {
    return this.log.lines;
  }

  /**
   * Logs one change (group commit), stamped with the next sequence number; resolves once it is
   * on disk. Never rejects: a change the disk refuses is held and retried (see the module
   * comment); any other failure is logged.
   */
  record(change: Omit<C, 's'>): Promise<void> {
    this.seq++;
    const stamped = { ...change, s: this.seq } as unknown as C;
    const { logger, what } = this.options;
    const write = this.log
      .appendHeld(stamped, {
        retryMs: WRITE_RETRY_MS,
        stopped: () => this.closed,
        held: (err) =>
          `changes to ${what} are held in memory: ${errorText(err)}; they are written once the disk has room`,
        written: `changes to ${what} held for lack of disk are written`,
      })
      .catch((err: unknown) => logger.error(`a change to ${what} could not be written: ${errorText(err)}`))
      .finally(() => this.writing.delete(write));
    this.writing.add(write);
    this.checkpointIfDue();
    return write;
  }

  /**
   * Resolves once every change made so far is on disk. Throws a StorageUnavailableError when
   * the disk has refused them for `timeoutMs`: the caller reports that instead of acknowledging
   * (the changes stay in memory and are written once the disk has room).
   */
  async durable(timeoutMs = 5_000): Promise<void> {
    if (this.writing.size === 0) return;
    await this.within([...this.writing], timeoutMs);
  }

  /** Resolves once `change` (a promise from `record`) is on disk; throws as `durable` does. */
  async written(change: Promise<void>, timeoutMs = 5_000): Promise<void> {
    await this.within([change], timeoutMs);
  }

  private async within(writes: Promise<void>[], timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const written = await Promise.race([
      Promise.all(writes).then(() => true),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (!written) throw new StorageUnavailableError(this.log.path, 'ENOSPC', undefined);
  }

  /**
   * Writes a checkpoint once the log holds more records than the store has entries (and at
   * least the minimum): a change then costs O(1) amortized at any size.
   */
  private checkpointIfDue(): void {
    if (this.checkpointing) return;
    const pending = this.log.lines;
    const min = this.options.checkpointMinRecords ?? DEFAULT_CHECKPOINT_MIN_RECORDS;
    if (pending < min || pending < this.options.entries()) return;
    this.checkpointing = true;
    setImmediate(() => {
      this.checkpoint()
        .catch((err: unknown) =>
          this.options.logger.warn(`checkpoint of ${this.options.what} not written: ${errorText(err)}`),
        )
        .finally(() => {
          this.checkpointing = false;
        });
    });
  }

  /**
   * Writes the whole store as the checkpoint (the one it replaces becomes the last-good copy),
   * then drops from the change log what both checkpoints hold: the log keeps the changes since
   * the last-good checkpoint, so a damaged checkpoint falls back to the last-good one and loses
   * nothing.
   */
  async checkpoint(): Promise<void> {
    await this.log.idle();
    const previous = this.file.value.seq ?? 0;
    this.file.value = { ...this.options.snapshot(), seq: this.seq };
    this.file.save();
    const kept = this.log.readAll().filter((c) => c.s > previous);
    await this.log.rewrite(() => kept);
  }

  /** Writes what is pending (giving held changes a last chance) and closes the log. */
  async close(): Promise<void> {
    try {
      await this.durable(2_000);
    } catch {
      this.options.logger.error(
        `changes to ${this.options.what} the disk refused are lost: ${this.writing.size} not written`,
      );
    }
    this.closed = true;
    await this.log.close();
  }
}
