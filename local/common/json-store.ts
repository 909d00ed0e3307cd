import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * A small durable document: the whole value lives in memory and every `save()` writes it to
 * disk with write-to-temp, fsync and rename, so a crash leaves either the old or the new
 * file, never half of one. Good for registries of hundreds of items, not for bulk data.
 */
export class JsonFile<T> {
  private constructor(
    readonly path: string,
    public value: T,
  ) {}

  static open<T>(path: string, initial: () => T): JsonFile<T> {
    let value: T;
    try {
      value = JSON.parse(readFileSync(path, 'utf8')) as T;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new Error(`cannot read state file ${path}: ${(err as Error).message}; fix or remove it`);
      }
      value = initial();
    }
    return new JsonFile(path, value);
  }

  save(): void {
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.value));
    const fd = openSync(tmp, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
  }

  update(change: (value: T) => void): void {
    change(this.value);
    this.save();
  }
}
