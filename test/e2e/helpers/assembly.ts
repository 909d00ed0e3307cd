/**
 * One onboarded, synthesized assembly shared by every end-to-end test file (and by later runs
 * on the same machine): onboarding keys and CSRs for the test things, then the project's own
 * CDK app synthesized with `npx cdk synth` against those CSRs (demo/synth.ts, `via: 'cdk-cli'`).
 *
 * It lives in the OS temp dir under a name derived from the synth inputs (the app, its
 * constructs, the handlers, the contracts, the building config, the lock file and the list of
 * things), so a change to any of them synthesizes afresh, and an unchanged tree reuses the
 * assembly in seconds. Test files run in parallel workers: the first to arrive holds a lock
 * directory while it builds; the others wait for the `ready` marker. Each test file copies the
 * device keys into its own temp dir, because finishing onboarding writes there.
 */
import { cpSync, existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { vi } from 'vitest';
import { synthesize, synthInputsHash } from '../../../demo/synth';
import { startOnboarding } from '../../../provisioning/onboard';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const BUILDING_CONFIG = join(REPO_ROOT, 'building.json');

/** A sensor that senses temperature and an actuator that heats and ventilates, in one zone. */
export const SENSOR = 'hq-lobby-climate';
export const ACTUATOR = 'hq-lobby-hvac';
export const E2E_THINGS = [SENSOR, ACTUATOR] as const;

/** Bumped when the layout of the cache changes. */
const CACHE_FORMAT = '1';
const READY = 'ready';
const LOCK = 'lock';
/** A lock older than this is left over from a killed run. */
const STALE_LOCK_MS = 5 * 60_000;

export interface SharedAssembly {
  /** The synthesized cloud assembly (read only: deploys never write into it). */
  readonly cdkOut: string;
  /** CSRs the assembly was synthesized with. */
  readonly csrDir: string;
  /** Private keys and onboarding records; copy before finishing onboarding. */
  readonly devicesDir: string;
  /** Whether this call synthesized (false: reused). */
  readonly synthesized: boolean;
  readonly ms: number;
}

/** The shared assembly, synthesizing it unless an identical one is cached. */
export async function sharedAssembly(timeoutMs = 170_000): Promise<SharedAssembly> {
  const started = Date.now();
  const dir = join(tmpdir(), `zonectl-e2e-assembly-${inputHash()}`);
  const result = (synthesized: boolean): SharedAssembly => ({
    cdkOut: join(dir, 'cdk.out'),
    csrDir: join(dir, 'csr'),
    devicesDir: join(dir, 'devices'),
    synthesized,
    ms: Date.now() - started,
  });
  mkdirSync(dirname(dir), { recursive: true });
  const lock = `${dir}.${LOCK}`;
  const ready = join(dir, READY);
  for (;;) {
    if (existsSync(ready)) return result(false);
    if (tryLock(lock)) {
      try {
        if (existsSync(ready)) return result(false);
        await build(dir);
        return result(true);
      } finally {
        rmSync(lock, { recursive: true, force: true });
      }
    }
    // Another worker builds it: wait for its ready marker, or for its lock to go (it failed) or
    // grow stale (it was killed), then look again.
    await vi.waitFor(
      () => {
        if (!existsSync(ready) && existsSync(lock) && !isStale(lock)) {
          throw new Error(`the shared e2e assembly ${dir} was not ready within ${timeoutMs} ms`);
        }
      },
      { timeout: Math.max(0, started + timeoutMs - Date.now()), interval: 250 },
    );
  }
}

function isStale(lock: string): boolean {
  try {
    return Date.now() - statSync(lock).mtimeMs > STALE_LOCK_MS;
  } catch {
    return false; // removed meanwhile
  }
}

function tryLock(path: string): boolean {
  try {
    mkdirSync(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    if (isStale(path)) rmSync(path, { recursive: true, force: true });
    return false;
  }
}

async function build(dir: string): Promise<void> {
  // Built beside the final place and renamed, so a killed run leaves no half assembly behind.
  const work = `${dir}.build-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
  const csrDir = join(work, 'csr');
  const devicesDir = join(work, 'devices');
  for (const thing of E2E_THINGS) {
    await startOnboarding({ thing, configPath: BUILDING_CONFIG, csrDir, devicesDir });
  }
  await synthesize({
    repoRoot: REPO_ROOT,
    configPath: BUILDING_CONFIG,
    csrDir,
    outDir: join(work, 'cdk.out'),
    via: 'cdk-cli',
  });
  renameSync(work, dir);
  writeFileSync(join(dir, READY), `${new Date().toISOString()}\n`);
}

function inputHash(): string {
  const salt = `${CACHE_FORMAT}\n${E2E_THINGS.join(',')}\n`;
  return synthInputsHash(REPO_ROOT, [BUILDING_CONFIG], salt).slice(0, 24);
}

/** A private copy of the onboarded devices (keys, records) for one test file. */
export function copyDevices(assembly: SharedAssembly, to: string): string {
  cpSync(assembly.devicesDir, to, { recursive: true });
  return to;
}
