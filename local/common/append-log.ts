/**
 * An append-only log of JSON records with group commit, the base of every queue-like store of
 * the local cloud (the broker's inbound journal, SQS message logs, Lambda's asynchronous event
 * queue, the IoT registry's change log).
 *
 * Group commit: records appended during one event-loop turn are written together and made
 * durable with one fdatasync, on libuv's thread pool so the event loop keeps serving while the
 * disk works; records appended meanwhile form the next batch. `append()` resolves once its
 * record is on disk, so a service acknowledges only what a crash cannot take back, and a burst
 * of N acknowledgements costs one fsync rather than N. `write()` adds a record without waiting
 * for the disk (receives and deletes, where replaying an older state is harmless).
 *
 * Each line is `<crc32 of the JSON, 8 hex> <JSON>`; a line whose checksum, JSON or shape is
 * wrong (a torn write, a hand edit, a bad sector) is skipped when the log is read, copied to
 * `<log>.quarantine` with the reason, reported in one line, and dropped from the log, so one
 * bad record never stops the cloud from starting. Lines written before checksums (plain JSON)
 * are read too.
 *
 * A failed write (a full disk) is cut off again with ftruncate, so the log never keeps half a
 * record in front of the next good one; the batch's promises reject with a
 * StorageUnavailableError and the caller decides whether to refuse (`append`) or hold the record
 * and try again until the disk takes it (`appendHeld`).
 */
import {
  appendFileSync,
  closeSync,
  existsSync,
  fdatasync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  write,
} from 'node:fs';
import { dirname } from 'node:path';
import { crc32 } from 'node:zlib';
import type { z } from 'zod';
import {
  fsyncDirectory,
  isStorageFailure,
  storageError,
  writeFileAtomic,
  writeFileAtomicAsync,
} from './durable-fs';
import { errorText, type LocalLogger } from './log';
import { describeSchemaIssues } from './state-file';

export interface AppendLogOptions<R> {
  readonly path: string;
  /** The shape of one record; a line that does not fit is damaged. */
  readonly schema: z.ZodType<R>;
  /** What the log holds, for messages: "the message log of queue ingest". */
  readonly what: string;
  readonly logger: LocalLogger;
  /**
   * The log must exist (the store it belongs to was written before): a missing file is then
   * reported as lost records, not taken as an empty log. Names what was lost.
   */
  readonly missingLoses?: string;
}

/** How `appendHeld` holds a record the disk refuses, and what the log says meanwhile. */
export interface HoldOptions {
  /** Delay before a refused write is tried again. */
  readonly retryMs: number;
  /** Whether the owner is closing: a refused write then rejects instead of waiting. */
  readonly stopped: () => boolean;
  /** The error line when writes start being held, given the disk's error. */
  readonly held: (err: unknown) => string;
  /** The line once every held write is on disk. */
  readonly written: string;
}

export interface OpenedLog<R> {
  readonly log: AppendLog<R>;
  /** The readable records, in order. */
  readonly records: R[];
  /** Lines skipped and quarantined. */
  readonly damaged: number;
}

interface Pending {
  readonly text: string;
  readonly durable: boolean;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

const HEX8 = /^[0-9a-f]{8} /;

export function encodeRecord(record: unknown): string {
  const json = JSON.stringify(record);
  return `${crc32(json).toString(16).padStart(8, '0')} ${json}\n`;
}

/** Decodes one line; returns the reason when it is damaged. */
export function decodeRecord<R>(
  line: string,
  schema: z.ZodType<R>,
): { ok: true; record: R } | { ok: false; reason: string } {
  let json: string;
  if (HEX8.test(line)) {
    json = line.slice(9);
    const expected = Number.parseInt(line.slice(0, 8), 16);
    if (crc32(json) !== expected)
      return { ok: false, reason: 'checksum mismatch (the record was altered or torn)' };
  } else if (line.startsWith('{')) {
    json = line; // written before records carried checksums
  } else {
    return { ok: false, reason: 'not a log record' };
  }
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    return { ok: false, reason: `not valid JSON (${(err as Error).message})` };
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success)
    return { ok: false, reason: `not a valid record: ${describeSchemaIssues(parsed.error)}` };
  return { ok: true, record: parsed.data };
}

/** A line of a file that could not be read, with why. */
export interface DamagedLine {
  /** 1-based. */
  readonly line: number;
  readonly text: string;
  readonly reason: string;
}

/**
 * Sets damaged lines aside in `<path>.quarantine` with their reasons, rewrites the file with
 * the good lines only (so the damage is reported once), and says so in one line.
 */
export function quarantineLines(
  path: string,
  good: readonly string[],
  bad: readonly DamagedLine[],
  what: string,
  logger: LocalLogger,
  unit = 'record',
): void {
  const quarantine = `${path}.quarantine`;
  const now = new Date().toISOString();
  appendFileSync(
    quarantine,
    bad.map((b) => `# ${now} ${path} line ${b.line}: ${b.reason}\n${b.text}\n`).join(''),
  );
  writeFileAtomic(path, good.length > 0 ? `${good.join('\n')}\n` : '');
  const shown = bad
    .slice(0, 3)
    .map((b) => `line ${b.line}: ${b.reason}`)
    .join('; ');
  logger.warn(
    `${what} (${path}): skipped ${bad.length} damaged ${unit}(s) (${shown}${bad.length > 3 ? '; ...' : ''}); they are kept in ${quarantine}`,
  );
}

export class AppendLog<R> {
  private fd: number | undefined;
  private size = 0;
  private count = 0;
  private pending: Pending[] = [];
  private flushing: Promise<void> | undefined;
  private scheduled = false;
  private closed = false;
  /** Records `appendHeld` holds while the disk refuses them. */
  private held = 0;

  private constructor(
    readonly path: string,
    private readonly what: string,
    private readonly logger: LocalLogger,
    private readonly schema: z.ZodType<R>,
  ) {}

  /** Reads the log (quarantining damaged lines) and opens it for appending. */
  static open<R>(options: AppendLogOptions<R>): OpenedLog<R> {
    const { path, schema, what, logger } = options;
    mkdirSync(dirname(path), { recursive: true });
    const log = new AppendLog<R>(path, what, logger, schema);
    const records: R[] = [];
    const good: string[] = [];
    const bad: DamagedLine[] = [];
    const existed = existsSync(path);
    if (!existed && options.missingLoses) {
      logger.error(
        `${what} (${path}) is missing although the state dir was used before: started it empty, so ${options.missingLoses} is lost. Restore the file from a backup and start again to get it back`,
      );
    }
    if (existed) {
      const text = readFileSync(path, 'utf8');
      const lines = text.split('\n');
      const torn = !text.endsWith('\n') && text.length > 0;
      lines.forEach((line, i) => {
        if (line === '') return;
        const last = i === lines.length - 1;
        const decoded = decodeRecord(line, schema);
        if (decoded.ok && !(last && torn)) {
          records.push(decoded.record);
          good.push(line);
        } else {
          const reason = decoded.ok ? 'incomplete last record' : decoded.reason;
          bad.push({
            line: i + 1,
            text: line,
            reason: last && torn ? `${reason}; an interrupted write` : reason,
          });
        }
      });
    }
    if (bad.length > 0) quarantineLines(path, good, bad, what, logger);
    log.fd = openSync(path, 'a');
    if (!existed) fsyncDirectory(dirname(path));
    log.size = good.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
    log.count = good.length;
    return { log, records, damaged: bad.length };
  }

  /** Records in the file since it was last rewritten. */
  get lines(): number {
    return this.count;
  }

  /**
   * Reads back the records on disk now (call after `idle()` to include every append); damaged
   * lines are skipped, as they were reported when the log was opened.
   */
  readAll(): R[] {
    const out: R[] = [];
    for (const line of readFileSync(this.path, 'utf8').split('\n')) {
      if (line === '') continue;
      const decoded = decodeRecord(line, this.schema);
      if (decoded.ok) out.push(decoded.record);
    }
    return out;
  }

  /** Appends a record; resolves once it is on disk (group commit). */
  append(record: R): Promise<void> {
    return this.enqueue(encodeRecord(record), true);
  }

  /**
   * Appends a record; resolves once it is on disk, holding it while the disk refuses the write
   * (full, over quota, failing) and trying again every `retryMs`, so the owner's answer waits
   * instead of failing. The log says once that writes are held and once that they are all
   * written. Rejects with any other error, and with the disk's once the owner has `stopped()`.
   */
  async appendHeld(record: R, hold: HoldOptions): Promise<void> {
    const text = encodeRecord(record);
    let held = false;
    for (;;) {
      try {
        await this.enqueue(text, true);
        if (held && --this.held === 0) this.logger.info(hold.written);
        return;
      } catch (err) {
        if (!isStorageFailure(err) || hold.stopped()) {
          if (held) this.held--;
          throw err;
        }
        if (!held) {
          held = true;
          if (this.held++ === 0) this.logger.error(hold.held(err));
        }
        await new Promise((resolve) => setTimeout(resolve, hold.retryMs));
      }
    }
  }

  /** Appends a record without waiting for the disk; a failure is logged, not thrown. */
  write(record: R): void {
    this.enqueue(encodeRecord(record), false).catch((err: unknown) =>
      this.logger.warn(`${this.what}: a record could not be written: ${errorText(err)}`),
    );
  }

  private enqueue(text: string, durable: boolean): Promise<void> {
    if (this.closed || this.fd === undefined) {
      return Promise.reject(new Error(`${this.what} is closed`));
    }
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ text, durable, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.flushing) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  /** Writes (and fsyncs) everything appended so far, one batch after another. */
  private flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    if (this.pending.length === 0 || this.fd === undefined) return Promise.resolve();
    const fd = this.fd;
    const batch = this.pending;
    this.pending = [];
    const buf = Buffer.from(batch.map((p) => p.text).join(''));
    const sync = batch.some((p) => p.durable);
    this.flushing = (async () => {
      try {
        await writeAll(fd, buf);
        if (sync) await new Promise<void>((res, rej) => fdatasync(fd, (e) => (e ? rej(e) : res())));
        this.size += buf.length;
        this.count += batch.length;
        for (const p of batch) p.resolve();
      } catch (err) {
        // Cut off whatever part of the batch reached the file, so no torn record stays in front
        // of the next good one.
        try {
          ftruncateSync(fd, this.size);
        } catch {
          // the next read quarantines what is left
        }
        const e = storageError(err, this.path);
        for (const p of batch) p.reject(e);
      } finally {
        this.flushing = undefined;
      }
      if (this.pending.length > 0) this.schedule();
    })();
    return this.flushing;
  }

  /** Resolves when nothing is being written and nothing waits to be. */
  async idle(): Promise<void> {
    while (this.flushing || this.pending.length > 0) {
      if (this.flushing) await this.flushing;
      else await this.flush();
    }
  }

  /**
   * Compaction: replaces the log atomically with `records` (the live state) followed by the
   * records appended but not yet written, which resolve with the new file. Those come after the
   * live state because a caller may apply a record's effect only once it is durable (SQS makes a
   * sent message deliverable then), so the live state cannot be trusted to hold them; reading
   * the log applies both, and records are written so that applying one twice is harmless.
   */
  async rewrite(records: () => Iterable<R>): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.closed || this.fd === undefined) return;
    const waiting = this.pending;
    this.pending = [];
    // Holds appends meanwhile (they queue as pending and are written to the new file), while
    // the new file is written and synced off the event loop.
    const rewriting = this.writeCompacted(records, waiting);
    this.flushing = rewriting.then(
      () => {},
      () => {},
    );
    try {
      await rewriting;
    } finally {
      this.flushing = undefined;
      if (this.pending.length > 0) this.schedule();
    }
  }

  private async writeCompacted(records: () => Iterable<R>, waiting: Pending[]): Promise<void> {
    let size = 0;
    let count = 0;
    try {
      const lines: string[] = [];
      for (const r of records()) lines.push(encodeRecord(r));
      for (const p of waiting) lines.push(p.text);
      const text = lines.join('');
      size = Buffer.byteLength(text);
      count = lines.length;
      await writeFileAtomicAsync(this.path, text);
    } catch (err) {
      this.pending = [...waiting, ...this.pending];
      throw storageError(err, this.path);
    }
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = openSync(this.path, 'a');
    this.size = size;
    this.count = count;
    for (const p of waiting) p.resolve();
  }

  /** Writes what is pending and closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.idle();
    } catch {
      // pending records were rejected; their callers know
    }
    this.closed = true;
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

function writeAll(fd: number, buf: Buffer): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const step = (offset: number) => {
      write(fd, buf, offset, buf.length - offset, null, (err, written) => {
        if (err) return reject(err);
        if (offset + written < buf.length) return step(offset + written);
        resolve();
      });
    };
    step(0);
  });
}
