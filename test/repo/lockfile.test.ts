import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

interface LockEntry {
  optionalDependencies?: Record<string, string>;
  inBundle?: boolean;
}

/** Whether `dep` resolves from the package at `path`, walking up node_modules folders as Node does. */
function resolves(packages: Record<string, LockEntry>, path: string, dep: string): boolean {
  let dir = path;
  for (;;) {
    if (`${dir ? `${dir}/` : ''}node_modules/${dep}` in packages) return true;
    const at = dir.lastIndexOf('/node_modules/');
    if (dir === '') return false;
    dir = at === -1 ? '' : dir.slice(0, at);
  }
}

/**
 * `npm ci` refuses a lock file that lacks any optional dependency of a locked package, even one
 * for another platform. The package registry these machines use serves only some platforms'
 * binaries, so `npm install` leaves those entries out; they are kept in the lock by hand, with
 * their os/cpu/libc so npm skips them here.
 */
describe('package-lock.json', () => {
  it('lists every optional dependency of every locked package, so npm ci accepts it', () => {
    const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as {
      packages: Record<string, LockEntry>;
    };
    const missing: string[] = [];
    for (const [path, entry] of Object.entries(lock.packages)) {
      if (entry.inBundle) continue;
      for (const dep of Object.keys(entry.optionalDependencies ?? {})) {
        if (!resolves(lock.packages, path, dep)) missing.push(`${dep} (of ${path})`);
      }
    }
    expect(missing).toEqual([]);
  });
});
