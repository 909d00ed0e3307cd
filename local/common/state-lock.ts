/**
 * One local cloud per state dir: `<stateDir>/cloud.lock` holds the process id of the cloud that
 * uses the dir, made with an exclusive create and removed when it stops. A second cloud finds it,
 * sees the process alive and refuses to start (two clouds would interleave their state files).
 * A lock left by a cloud that was killed names a process that is gone: it is taken over.
 *
 * Before, DuckDB's lock on the Timestream database kept a second cloud out; that database is now
 * opened on first use, so the dir takes its own lock at start.
 *
 * LIMITATIONS: a process id is all it checks; a killed cloud's id that the system has since
 * given to another living process keeps the lock held (the message names the process, and
 * removing the file frees it). Advisory only: it keeps local clouds apart, nothing else.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export const STATE_LOCK_FILE = 'cloud.lock';

/** Another living process holds the state dir. */
export class StateDirInUseError extends Error {
  constructor(
    readonly lockFile: string,
    readonly pid: number,
  ) {
    super(
      `Another process (PID ${pid}) has the local cloud's state open (${lockFile}): stop it first (Ctrl-C where it runs), or give this one another state dir (--state-dir)`,
    );
    this.name = 'StateDirInUseError';
  }
}

/** Whether a process with this id exists (one of another user's counts: EPERM). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the state dir's lock; the function it returns gives it back. */
export function lockStateDir(stateDir: string): () => void {
  const file = join(stateDir, STATE_LOCK_FILE);
  for (let attempt = 0; ; attempt++) {
    let fd: number;
    try {
      fd = openSync(file, 'wx', 0o644);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let holder = Number.NaN;
      try {
        holder = Number.parseInt(readFileSync(file, 'utf8'), 10);
      } catch {
        // removed meanwhile: try again
      }
      if (Number.isInteger(holder) && holder > 0 && processAlive(holder))
        throw new StateDirInUseError(file, holder);
      if (attempt > 0) throw err;
      rmSync(file, { force: true });
      continue;
    }
    try {
      writeSync(fd, `${process.pid}\n`);
    } finally {
      closeSync(fd);
    }
    return () => {
      try {
        if (Number.parseInt(readFileSync(file, 'utf8'), 10) === process.pid) rmSync(file, { force: true });
      } catch {
        // already gone
      }
    };
  }
}
