import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BUFFER_FILE, ReadingBuffer } from '../../device/buffer';

let dir: string;
let buffer: ReadingBuffer | undefined;
const T0 = 1_763_900_000_000;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'buffer-'));
});
afterEach(() => {
  buffer?.close();
  buffer = undefined;
  rmSync(dir, { recursive: true, force: true });
});

const fill = (b: ReadingBuffer, n: number) => {
  for (let i = 0; i < n; i++) b.append(T0 + i * 1000, { temperature: 20 + i / 10 });
};

describe('ReadingBuffer', () => {
  it('writes a reading to disk before append returns', () => {
    buffer = ReadingBuffer.open(dir);
    const reading = buffer.append(T0, { co2: 650 });
    expect(readFileSync(join(dir, BUFFER_FILE), 'utf8')).toContain(JSON.stringify({ r: reading }));
  });

  it('hands readings out oldest first with their original timestamps', () => {
    buffer = ReadingBuffer.open(dir);
    fill(buffer, 5);
    expect(buffer.take(3).map((r) => [r.seq, r.ts])).toEqual([
      [0, T0],
      [1, T0 + 1000],
      [2, T0 + 2000],
    ]);
    expect(buffer.take(10).map((r) => r.seq)).toEqual([3, 4]);
  });

  it('keeps a reading until it is acknowledged', () => {
    buffer = ReadingBuffer.open(dir);
    fill(buffer, 3);
    const batch = buffer.take(3);
    expect(buffer.size).toBe(3);
    buffer.ack(batch.slice(0, 2).map((r) => r.seq));
    expect(buffer.size).toBe(1);
  });

  it('offers released readings again in order after a failed publish', () => {
    buffer = ReadingBuffer.open(dir);
    fill(buffer, 4);
    buffer.take(2);
    buffer.take(2);
    buffer.release();
    expect(buffer.take(4).map((r) => r.seq)).toEqual([0, 1, 2, 3]);
  });

  it('survives a restart with unacknowledged readings and the sequence number', () => {
    buffer = ReadingBuffer.open(dir);
    fill(buffer, 5);
    buffer.ack(buffer.take(2).map((r) => r.seq));
    buffer.take(3); // in flight when the process stops: not acknowledged, so kept
    buffer.close();
    buffer = ReadingBuffer.open(dir);
    expect(buffer.take(10).map((r) => r.seq)).toEqual([2, 3, 4]);
    expect(buffer.append(T0, { co2: 500 }).seq).toBe(5);
  });

  it('keeps the sequence number across restarts when everything was acknowledged', () => {
    buffer = ReadingBuffer.open(dir);
    fill(buffer, 3);
    buffer.ack(buffer.take(3).map((r) => r.seq));
    buffer.close();
    buffer = ReadingBuffer.open(dir);
    expect(buffer.size).toBe(0);
    expect(buffer.append(T0, { co2: 500 }).seq).toBe(3);
  });

  it('drops the oldest reading only when full, and counts it across restarts', () => {
    buffer = ReadingBuffer.open(dir, { maxReadings: 3 });
    fill(buffer, 3);
    expect(buffer.dropped).toBe(0);
    fill(buffer, 2);
    expect(buffer.dropped).toBe(2);
    expect(buffer.take(10).map((r) => r.seq)).toEqual([2, 3, 4]);
    buffer.close();
    buffer = ReadingBuffer.open(dir, { maxReadings: 3 });
    expect(buffer.dropped).toBe(2);
    expect(buffer.size).toBe(3);
  });

  it('ignores a journal line cut short by a crash', () => {
    buffer = ReadingBuffer.open(dir);
    fill(buffer, 2);
    buffer.close();
    appendFileSync(join(dir, BUFFER_FILE), '{"r":{"ts":17639');
    buffer = ReadingBuffer.open(dir);
    expect(buffer.take(10).map((r) => r.seq)).toEqual([0, 1]);
  });

  it('compacts the journal once acknowledged lines pile up', () => {
    buffer = ReadingBuffer.open(dir, { compactAfter: 10 });
    for (let i = 0; i < 50; i++) {
      buffer.append(T0 + i, { co2: 500 + i });
      buffer.ack(buffer.take(1).map((r) => r.seq));
    }
    const lines = readFileSync(join(dir, BUFFER_FILE), 'utf8').trim().split('\n');
    expect(lines.length).toBeLessThan(25);
    expect(buffer.nextSeq).toBe(50);
  });
});
