import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lockStateDir, STATE_LOCK_FILE, StateDirInUseError } from '../../../local/common/state-lock';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'zonectl-state-lock-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('lockStateDir', () => {
  it('writes its process id and removes the lock when given back', () => {
    const release = lockStateDir(dir);
    expect(readFileSync(join(dir, STATE_LOCK_FILE), 'utf8').trim()).toBe(String(process.pid));
    release();
    expect(existsSync(join(dir, STATE_LOCK_FILE))).toBe(false);
  });

  it('refuses a dir a living process holds, naming the process and the way out', () => {
    writeFileSync(join(dir, STATE_LOCK_FILE), `${process.ppid}\n`);
    expect(() => lockStateDir(dir)).toThrow(StateDirInUseError);
    expect(() => lockStateDir(dir)).toThrow(
      new RegExp(`Another process \\(PID ${process.ppid}\\) has the local cloud's state open .*--state-dir`),
    );
  });

  it('refuses a second lock from the same process while the first is held', () => {
    const release = lockStateDir(dir);
    expect(() => lockStateDir(dir)).toThrow(StateDirInUseError);
    release();
    lockStateDir(dir)();
  });

  it('takes over a lock whose process is gone, or that holds no process id', () => {
    for (const stale of ['2147483646\n', '', 'garbage']) {
      writeFileSync(join(dir, STATE_LOCK_FILE), stale);
      const release = lockStateDir(dir);
      expect(readFileSync(join(dir, STATE_LOCK_FILE), 'utf8').trim()).toBe(String(process.pid));
      release();
    }
  });

  it('leaves a lock that another process has taken since', () => {
    const release = lockStateDir(dir);
    writeFileSync(join(dir, STATE_LOCK_FILE), `${process.ppid}\n`);
    release();
    expect(readFileSync(join(dir, STATE_LOCK_FILE), 'utf8').trim()).toBe(String(process.ppid));
  });
});
