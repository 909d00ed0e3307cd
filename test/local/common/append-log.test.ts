import {
  appendFileSync,
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AppendLog, encodeRecord, type HoldOptions } from '../../../local/common/append-log';
import { errorText, recordingLogger } from '../../../local/common/log';
import { provesAbsenceFor } from '../../helpers/absence';

const Schema = z.object({ n: z.number() });

let dir: string;
let path: string;
let logger: ReturnType<typeof recordingLogger>;
const open = () => AppendLog.open({ path, schema: Schema, what: 'the test log', logger });

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'zonectl-append-log-'));
  path = join(dir, 'test.log');
  logger = recordingLogger();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('AppendLog', () => {
  it('reads back, in order, every record whose append resolved', async () => {
    const { log } = open();
    await Promise.all([1, 2, 3].map((n) => log.append({ n })));
    log.write({ n: 4 });
    await log.close();
    const { records, damaged } = open();
    expect(records).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }]);
    expect(damaged).toBe(0);
  });

  it('writes the appends of one event-loop turn as one batch', async () => {
    const { log } = open();
    const appends = Array.from({ length: 50 }, (_, n) => log.append({ n }));
    expect(readFileSync(path, 'utf8')).toBe('');
    await Promise.all(appends);
    expect(log.lines).toBe(50);
    await log.close();
  });

  it('skips and quarantines damaged records, reporting each line, and keeps the good ones', async () => {
    writeFileSync(
      path,
      [
        encodeRecord({ n: 1 }),
        'null\n',
        encodeRecord({ n: 2 }).replace('"n":2', '"n":3'), // checksum no longer fits
        '{"t":"s","m":\n',
        encodeRecord({ wrong: true }),
        encodeRecord({ n: 4 }),
        encodeRecord({ n: 5 }).slice(0, 12), // torn last write
      ].join(''),
    );
    const { log, records, damaged } = open();
    expect(records).toEqual([{ n: 1 }, { n: 4 }]);
    expect(damaged).toBe(5);
    const line = logger.lines.find((l) => l.includes('skipped 5 damaged record(s)'))!;
    expect(line).toContain(path);
    expect(line).toMatch(/line 2: not a log record; line 3: checksum mismatch/);
    const quarantine = readFileSync(`${path}.quarantine`, 'utf8');
    expect(quarantine).toMatch(/line 7: .*an interrupted write/);
    expect(quarantine).toContain('null');
    await log.close();
    logger.lines.length = 0;
    expect(open().records).toEqual([{ n: 1 }, { n: 4 }]);
    expect(logger.lines).toEqual([]);
  });

  it('reads records written before they carried checksums', () => {
    appendFileSync(path, '{"n":7}\n{"n":8}\n');
    expect(open().records).toEqual([{ n: 7 }, { n: 8 }]);
  });

  it('rewrites itself with the live records, then the appends still waiting to be written', async () => {
    const { log } = open();
    await Promise.all([1, 2, 3, 4].map((n) => log.append({ n })));
    // The caller applies n=5 only once it is durable, so the live state does not hold it yet.
    const waiting = log.append({ n: 5 });
    await log.rewrite(() => [{ n: 4 }]);
    await waiting;
    expect(log.lines).toBe(2);
    await log.append({ n: 6 });
    await log.close();
    expect(open().records).toEqual([{ n: 4 }, { n: 5 }, { n: 6 }]);
  });
});

/**
 * A full disk, played by /dev/full (every write fails with ENOSPC): the log's file descriptor is
 * swapped for one of /dev/full, and back when the disk "has room" again.
 */
describe.skipIf(!existsSync('/dev/full'))('AppendLog.appendHeld on a full disk', () => {
  const fillDisk = (log: AppendLog<{ n: number }>) => {
    const handle = log as unknown as { fd: number };
    const real = handle.fd;
    const full = openSync('/dev/full', 'w');
    handle.fd = full;
    return () => {
      handle.fd = real;
      closeSync(full);
    };
  };
  const hold = (stopped = () => false): HoldOptions => ({
    retryMs: 20,
    stopped,
    held: (err) => `held: ${errorText(err)}`,
    written: 'all written',
  });

  it('holds the records the disk refuses, writes them once it has room, and says each once', async () => {
    const { log } = open();
    const freeSpace = fillDisk(log);
    let done = 0;
    const writes = [1, 2, 3].map((n) => log.appendHeld({ n }, hold()).then(() => done++));
    await provesAbsenceFor(200, 'an append resolved while the disk refuses it');
    expect(done).toBe(0);
    expect(logger.lines.filter((l) => l.includes('held:'))).toEqual([
      expect.stringMatching(/^ERROR .*held: .*ENOSPC/),
    ]);

    freeSpace();
    await Promise.all(writes);
    expect(logger.lines.filter((l) => l.includes('all written'))).toHaveLength(1);
    await log.close();
    expect(
      open()
        .records.map((r) => r.n)
        .sort(),
    ).toEqual([1, 2, 3]);
  });

  it('rejects a held record with the disk error once its owner stops', async () => {
    const { log } = open();
    let stopping = false;
    const freeSpace = fillDisk(log);
    const write = log.appendHeld(
      { n: 1 },
      hold(() => stopping),
    );
    await expect.poll(() => logger.lines.some((l) => l.includes('held:'))).toBe(true);
    stopping = true;
    await expect(write).rejects.toThrow(/ENOSPC|no space/i);
    freeSpace();
    expect(logger.lines.some((l) => l.includes('all written'))).toBe(false);
    await log.close();
    expect(open().records).toEqual([]);
  });
});
