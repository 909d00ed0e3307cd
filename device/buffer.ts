/**
 * A disk-backed, bounded buffer of readings: the agent's memory through a lost connection.
 *
 * - Every reading is appended to a journal on disk (and gets its sequence number) before the
 *   agent counts it as taken; a crash loses nothing that `append` returned.
 * - Readings leave the buffer only when the broker acknowledged them (PUBACK): `take` marks a
 *   batch in flight, `ack` removes it, `release` puts it back after a failed publish.
 * - `take` always starts from the oldest reading, so a replay after reconnect is in order with
 *   the original timestamps.
 * - When full, the oldest reading is dropped and counted; the count survives restarts.
 * - Sequence numbers survive restarts too, so the cloud can drop duplicates.
 *
 * Journal format (one JSON object per line): `{"h":{"next":N,"dropped":D}}` header,
 * `{"r":reading}` appended, `{"a":[seq...]}` acknowledged, `{"d":[seq...]}` dropped. The
 * journal is compacted (rewritten and renamed into place) once dead lines outnumber live ones.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Reading } from '../contracts';
import type { SensorValues } from './drivers';

export const BUFFER_FILE = 'buffer.jsonl';

export interface BufferOptions {
  /** Most readings kept; the oldest is dropped beyond this. Default 50,000 (about 5 MB). */
  readonly maxReadings?: number;
  /** fsync after every write: survives power loss, costs a disk flush per reading. Default false. */
  readonly fsync?: boolean;
  /** Compact once this many dead journal lines pile up (and they outnumber live ones). Default 1,000. */
  readonly compactAfter?: number;
}

export const DEFAULT_BUFFER_OPTIONS = { maxReadings: 50_000, fsync: false, compactAfter: 1_000 } as const;

type JournalLine =
  | { h: { next: number; dropped: number } }
  | { r: Reading }
  | { a: number[] }
  | { d: number[] };

export class ReadingBuffer {
  private readonly pending = new Map<number, Reading>();
  private readonly flying = new Set<number>();
  private fd: number | undefined;
  private next = 0;
  private droppedCount = 0;
  private deadLines = 0;
  private readonly options: Required<BufferOptions>;

  private constructor(
    private readonly dir: string,
    options: BufferOptions,
  ) {
    this.options = { ...DEFAULT_BUFFER_OPTIONS, ...options };
    if (this.options.maxReadings < 1) throw new RangeError('maxReadings must be at least 1');
  }

  /** Opens (or creates) the buffer in `dir`, replaying its journal. */
  static open(dir: string, options: BufferOptions = {}): ReadingBuffer {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const buffer = new ReadingBuffer(dir, options);
    buffer.load();
    buffer.compact();
    return buffer;
  }

  private get path(): string {
    return join(this.dir, BUFFER_FILE);
  }

  private load(): void {
    let text = '';
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    for (const raw of text.split('\n')) {
      if (!raw) continue;
      let line: JournalLine;
      try {
        line = JSON.parse(raw) as JournalLine;
      } catch {
        continue; // a line cut short by a crash: everything before it is intact
      }
      if ('h' in line) {
        this.next = Math.max(this.next, line.h.next);
        this.droppedCount = line.h.dropped;
      } else if ('r' in line) {
        this.pending.set(line.r.seq, line.r);
        this.next = Math.max(this.next, line.r.seq + 1);
      } else if ('a' in line) {
        for (const seq of line.a) this.pending.delete(seq);
      } else if ('d' in line) {
        for (const seq of line.d) if (this.pending.delete(seq)) this.droppedCount++;
      }
    }
  }

  private write(line: JournalLine): void {
    if (this.fd === undefined) throw new Error('the reading buffer is closed');
    writeSync(this.fd, `${JSON.stringify(line)}\n`);
    if (this.options.fsync) fsyncSync(this.fd);
  }

  /** Rewrites the journal with only live readings (atomic: write, fsync, rename). */
  private compact(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    let text = `${JSON.stringify({ h: { next: this.next, dropped: this.droppedCount } })}\n`;
    for (const reading of this.pending.values()) text += `${JSON.stringify({ r: reading })}\n`;
    writeSync(fd, text);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, this.path);
    this.fd = openSync(this.path, 'a', 0o600);
    this.deadLines = 0;
  }

  private maybeCompact(): void {
    if (this.deadLines >= this.options.compactAfter && this.deadLines > this.pending.size) this.compact();
  }

  /** Stores one reading with the next sequence number; returns it once it is on disk. */
  append(ts: number, values: SensorValues): Reading {
    if (this.pending.size >= this.options.maxReadings) {
      const oldest = this.pending.keys().next().value as number;
      this.pending.delete(oldest);
      this.flying.delete(oldest);
      this.droppedCount++;
      this.write({ d: [oldest] });
      this.deadLines += 2;
    }
    const reading = { ts, seq: this.next, ...values } as Reading;
    this.write({ r: reading });
    this.next++;
    this.pending.set(reading.seq, reading);
    this.maybeCompact();
    return reading;
  }

  /** The oldest readings not already in flight, marked in flight, up to `limit`. */
  take(limit: number): Reading[] {
    const out: Reading[] = [];
    for (const [seq, reading] of this.pending) {
      if (out.length >= limit) break;
      if (this.flying.has(seq)) continue;
      this.flying.add(seq);
      out.push(reading);
    }
    return out;
  }

  /** The broker acknowledged these readings: they leave the buffer. */
  /** Readings the broker acknowledged leave the buffer; returns how many were still held. */
  ack(seqs: readonly number[]): number {
    const gone = seqs.filter((s) => this.pending.delete(s));
    for (const s of seqs) this.flying.delete(s);
    if (gone.length === 0) return 0;
    this.write({ a: gone });
    this.deadLines += gone.length + 1;
    this.maybeCompact();
    return gone.length;
  }

  /** A publish failed: these readings (or all in flight) go back to waiting, in order. */
  release(seqs?: readonly number[]): void {
    if (seqs === undefined) this.flying.clear();
    else for (const s of seqs) this.flying.delete(s);
  }

  /** Readings stored and not yet acknowledged (in flight included). */
  get size(): number {
    return this.pending.size;
  }

  /** Readings waiting to be taken. */
  get waiting(): number {
    return this.pending.size - this.flying.size;
  }

  get inFlight(): number {
    return this.flying.size;
  }

  /** Readings dropped because the buffer was full, since the buffer was created. */
  get dropped(): number {
    return this.droppedCount;
  }

  /** The sequence number the next reading gets. */
  get nextSeq(): number {
    return this.next;
  }

  /** Timestamp of the oldest reading waiting to be taken. */
  oldestWaitingTs(): number | undefined {
    for (const [seq, reading] of this.pending) if (!this.flying.has(seq)) return reading.ts;
    return undefined;
  }

  close(): void {
    if (this.fd === undefined) return;
    this.compact();
    closeSync(this.fd);
    this.fd = undefined;
  }
}
