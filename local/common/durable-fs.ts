/**
 * The file-system steps every durable store of the local cloud takes the same way: write a
 * whole file atomically (write to a temp file, fsync it, rename it over the old one, fsync the
 * directory so the rename itself survives a power cut), keep the previous version as a
 * last-good copy, and tell a failure of the local disk (full, read-only, I/O error) apart from
 * a bad request, because a full disk is a condition to wait out, never a reason to drop work.
 *
 * Follows the POSIX rename() guarantee (the new name refers to either the old or the new file,
 * never to a mix) and Linux's fsync(2) notes on making a new directory entry durable.
 */
import {
  closeSync,
  copyFileSync,
  existsSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

/** The suffix of a state file's previous good version. */
export const LAST_GOOD_SUFFIX = '.last-good';

/**
 * Some file systems refuse fsync on a directory (EINVAL, EISDIR, EPERM); a rename there is as
 * durable as that file system makes it.
 */
function directorySyncRefused(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'EINVAL' || code === 'EISDIR' || code === 'EPERM';
}

/** fsyncs a directory so the names created, renamed or removed in it are durable. */
export function fsyncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch (err) {
    if (!directorySyncRefused(err)) throw err;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export interface AtomicWriteOptions {
  /** File mode for a new file, e.g. 0o600 for a private key. */
  readonly mode?: number;
  /** Keep the file being replaced as `<path>.last-good`. */
  readonly keepLastGood?: boolean;
}

/**
 * Replaces `path` with `data` so that a crash at any moment leaves either the old or the new
 * content under `path` (and, with keepLastGood, the old content under `<path>.last-good`).
 * Throws the file system's error; a temp file is never left behind.
 */
export function writeFileAtomic(path: string, data: string | Buffer, options: AtomicWriteOptions = {}): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    const fd = openSync(tmp, 'w', options.mode ?? 0o644);
    try {
      const buf = typeof data === 'string' ? Buffer.from(data) : data;
      let off = 0;
      while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (options.keepLastGood && existsSync(path)) keepAsLastGood(path);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  fsyncDirectory(dir);
}

/**
 * writeFileAtomic with the writes and fsyncs on libuv's thread pool, for a large file written
 * while the cloud serves (a log's compaction): the same steps and guarantees, without holding
 * the event loop for the disk.
 */
export async function writeFileAtomicAsync(
  path: string,
  data: string | Buffer,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    const handle = await open(tmp, 'w', options.mode ?? 0o644);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (options.keepLastGood && existsSync(path)) keepAsLastGood(path);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await fsyncDirectoryAsync(dir);
}

async function fsyncDirectoryAsync(dir: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (err) {
    if (!directorySyncRefused(err)) throw err;
  } finally {
    await handle?.close();
  }
}

/**
 * Makes `<path>.last-good` the current content of `path`: a hard link to the same file (no
 * copy), which keeps pointing at the old content when `path` is then replaced by a rename.
 */
function keepAsLastGood(path: string): void {
  const lastGood = `${path}${LAST_GOOD_SUFFIX}`;
  const tmp = `${lastGood}.${process.pid}.tmp`;
  rmSync(tmp, { force: true });
  try {
    linkSync(path, tmp);
  } catch {
    // No hard links on this file system: copy instead.
    copyFileSync(path, tmp);
  }
  renameSync(tmp, lastGood);
}

/** Error codes that mean the local disk cannot take the write now, not that the request is bad. */
const STORAGE_CODES = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EROFS', 'EFBIG', 'EMFILE', 'ENFILE']);

/**
 * The local disk could not store something: a full disk, a read-only or failing file system.
 * AWS's services never fail this way, so the local services hold or retry the work instead of
 * reporting it as an action failure, and say what to free.
 */
export class StorageUnavailableError extends Error {
  override readonly name = 'StorageUnavailableError';
  constructor(
    readonly path: string,
    readonly code: string,
    cause: unknown,
  ) {
    super(`the local disk could not store ${path} (${code}: ${describeCode(code)})`, { cause });
  }
}

function describeCode(code: string): string {
  switch (code) {
    case 'ENOSPC':
      return 'no space left on the device; free some space';
    case 'EDQUOT':
      return 'disk quota exceeded; free some space';
    case 'EROFS':
      return 'the file system is read-only';
    case 'EIO':
      return 'input/output error on the device';
    case 'EFBIG':
      return 'the file is too large for the file system';
    default:
      return 'too many open files';
  }
}

/** True for an error the local disk caused (full, read-only, failing), wrapped or not. */
export function isStorageFailure(err: unknown): boolean {
  if (err instanceof StorageUnavailableError) return true;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string' && STORAGE_CODES.has(code)) return true;
  const cause = (err as { cause?: unknown } | undefined)?.cause;
  return cause !== undefined && cause !== err && isStorageFailure(cause);
}

/** Wraps a file-system error of `path` as StorageUnavailableError when the disk caused it. */
export function storageError(err: unknown, path: string): Error {
  if (err instanceof StorageUnavailableError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string' && STORAGE_CODES.has(code))
    return new StorageUnavailableError(path, code, err);
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * A bound of a local service was reached (a full local queue): the work is held and tried
 * again, never dropped, because AWS's service would have taken it.
 */
export class LocalCapacityError extends Error {
  override readonly name = 'LocalCapacityError';
}

/** A failure the local cloud waits out (full disk, full local queue) rather than reports. */
export function isTransientLocalFailure(err: unknown): boolean {
  return err instanceof LocalCapacityError || isStorageFailure(err);
}
