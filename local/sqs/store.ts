import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { JsonFile } from '../common';
import type { StoredMessage } from './types';

/**
 * The local SQS on disk, under its directory: `queues.json` holds every queue's attributes and
 * timestamps (QueueRecords), and `messages/<queue>.jsonl` each queue's messages (QueueLog).
 */

/** A queue's settings as `queues.json` keeps them. */
export interface QueueRecord {
  attributes: Record<string, string>;
  createdAt: number;
  lastModifiedAt: number;
}

/** `queues.json`: the queues that exist and their attributes, written on every change. */
export class QueueRecords {
  private readonly file: JsonFile<{ queues: Record<string, QueueRecord> }>;

  constructor(dir: string) {
    this.file = JsonFile.open(join(dir, 'queues.json'), () => ({ queues: {} }));
  }

  all(): Array<[string, QueueRecord]> {
    return Object.entries(this.file.value.queues);
  }

  put(name: string, record: QueueRecord): void {
    this.file.update((v) => {
      v.queues[name] = record;
    });
  }

  remove(name: string): void {
    this.file.update((v) => {
      delete v.queues[name];
    });
  }
}

/** Where a queue's message log lives. */
export const queueLogPath = (dir: string, name: string) => join(dir, 'messages', `${name}.jsonl`);

/**
 * A queue's messages on disk: an append-only JSON-lines log of sends, receives, deletes and
 * purges. Sends are fsynced before they are acknowledged, so an acknowledged SendMessage
 * survives a crash; receives and deletes are written without fsync (at worst a message is
 * delivered again, which SQS's at-least-once delivery allows). The log is rewritten with only
 * the live messages when it grows well past them.
 */
type LogRecord =
  | { readonly t: 's'; readonly m: StoredMessage }
  | { readonly t: 'r'; readonly id: string; readonly n: number; readonly f: number }
  | { readonly t: 'd'; readonly id: string }
  | { readonly t: 'p' };

export interface LoadResult {
  readonly messages: StoredMessage[];
  /** Lines that could not be read (a torn final write, for example). */
  readonly skipped: number;
}

export class QueueLog {
  private fd: number | undefined;
  private lines = 0;

  private constructor(readonly path: string) {}

  /** Reads the log (if any) and opens it for appending. */
  static open(path: string): { log: QueueLog; loaded: LoadResult } {
    mkdirSync(dirname(path), { recursive: true });
    const log = new QueueLog(path);
    const loaded = log.read();
    log.fd = openSync(path, 'a');
    return { log, loaded };
  }

  private read(): LoadResult {
    if (!existsSync(this.path)) return { messages: [], skipped: 0 };
    const live = new Map<string, StoredMessage>();
    let skipped = 0;
    for (const line of readFileSync(this.path, 'utf8').split('\n')) {
      if (line === '') continue;
      this.lines++;
      let rec: LogRecord;
      try {
        rec = JSON.parse(line) as LogRecord;
      } catch {
        skipped++;
        continue;
      }
      if (rec.t === 's') live.set(rec.m.id, { ...rec.m });
      else if (rec.t === 'd') live.delete(rec.id);
      else if (rec.t === 'p') live.clear();
      else if (rec.t === 'r') {
        const m = live.get(rec.id);
        if (m) {
          m.receiveCount = rec.n;
          m.firstReceiveAt = rec.f;
        }
      }
    }
    return { messages: [...live.values()], skipped };
  }

  private append(records: readonly LogRecord[], sync: boolean): void {
    if (this.fd === undefined || records.length === 0) return;
    writeSync(this.fd, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
    if (sync) fsyncSync(this.fd);
    this.lines += records.length;
  }

  /** Durable once this returns. */
  sent(messages: readonly StoredMessage[]): void {
    this.append(
      messages.map((m) => ({ t: 's', m })),
      true,
    );
  }

  received(m: StoredMessage): void {
    this.append([{ t: 'r', id: m.id, n: m.receiveCount, f: m.firstReceiveAt ?? 0 }], false);
  }

  deleted(id: string): void {
    this.append([{ t: 'd', id }], false);
  }

  purged(): void {
    this.append([{ t: 'p' }], true);
  }

  /** Rewrites the log with only `live` if it has grown to many times their number. */
  compactIfNeeded(live: () => Iterable<StoredMessage>, liveCount: number): boolean {
    if (this.lines < 1000 || this.lines < 4 * liveCount) return false;
    this.compact(live());
    return true;
  }

  compact(live: Iterable<StoredMessage>): void {
    const tmp = `${this.path}.compact.tmp`;
    const fd = openSync(tmp, 'w');
    let n = 0;
    try {
      let chunk = '';
      for (const m of live) {
        chunk += `${JSON.stringify({ t: 's', m })}\n`;
        n++;
        if (chunk.length > 1 << 20) {
          writeSync(fd, chunk);
          chunk = '';
        }
      }
      if (chunk) writeSync(fd, chunk);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (this.fd !== undefined) closeSync(this.fd);
    renameSync(tmp, this.path);
    this.fd = openSync(this.path, 'a');
    this.lines = n;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  /** Closes and removes the log (DeleteQueue). */
  destroy(): void {
    this.close();
    rmSync(this.path, { force: true });
  }
}
