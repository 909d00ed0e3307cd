/**
 * One onboarded, synthesized assembly shared by every end-to-end test file (and by later runs
 * on the same machine): onboarding keys and CSRs for the test things, then the project's own
 * CDK app synthesized with `npx cdk synth` against those CSRs.
 *
 * It lives in the OS temp dir under a name derived from the synth inputs (the app, its
 * constructs, the handlers, the contracts, the building config, the lock file and the list of
 * things), so a change to any of them synthesizes afresh, and an unchanged tree reuses the
 * assembly in seconds. Test files run in parallel workers: the first to arrive holds a lock
 * directory while it builds; the others wait for the `ready` marker. Each test file copies the
 * device keys into its own temp dir, because finishing onboarding writes there.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONTEXT } from '../../../contracts';
import { startOnboarding } from '../../../provisioning/onboard';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const BUILDING_CONFIG = join(REPO_ROOT, 'building.json');

/** A sensor that senses temperature and an actuator that heats and ventilates, in one zone. */
export const SENSOR = 'hq-lobby-climate';
export const ACTUATOR = 'hq-lobby-hvac';
export const E2E_THINGS = [SENSOR, ACTUATOR] as const;

/** Inputs of the synthesized assembly, relative to the repository root. */
const INPUTS = ['bin/app.ts', 'cdk.json', 'package-lock.json', 'building.json', 'lib', 'lambda', 'contracts'];
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
  for (;;) {
    if (existsSync(join(dir, READY))) return result(false);
    if (tryLock(`${dir}.${LOCK}`)) {
      try {
        if (existsSync(join(dir, READY))) return result(false);
        await build(dir);
        return result(true);
      } finally {
        rmSync(`${dir}.${LOCK}`, { recursive: true, force: true });
      }
    }
    if (Date.now() - started > timeoutMs) {
      throw new Error(`the shared e2e assembly ${dir} was not ready within ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

function tryLock(path: string): boolean {
  try {
    mkdirSync(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    try {
      if (Date.now() - statSync(path).mtimeMs > STALE_LOCK_MS) rmSync(path, { recursive: true, force: true });
    } catch {
      // removed meanwhile
    }
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
  await cdkSynth(csrDir, join(work, 'cdk.out'));
  renameSync(work, dir);
  writeFileSync(join(dir, READY), `${new Date().toISOString()}\n`);
}

/** `npx cdk synth` of the project's app with our CSR dir, as a user runs it. */
function cdkSynth(csrDir: string, outDir: string): Promise<void> {
  return new Promise<void>((done, fail) => {
    const child = spawn(
      'npx',
      [
        'cdk',
        'synth',
        '--no-notices',
        '--quiet',
        '-c',
        `${CONTEXT.csrDir}=${csrDir}`,
        '-c',
        `${CONTEXT.buildingConfig}=${BUILDING_CONFIG}`,
        '-o',
        outDir,
      ],
      { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: 'true' } },
    );
    let output = '';
    child.stdout.on('data', (d) => {
      output += d;
    });
    child.stderr.on('data', (d) => {
      output += d;
    });
    child.on('error', fail);
    child.on('exit', (code) => {
      if (code === 0) done();
      else fail(new Error(`npx cdk synth failed (exit ${code}):\n${output.trim().slice(-4000)}`));
    });
  });
}

function inputHash(): string {
  const hash = createHash('sha256');
  hash.update(`${CACHE_FORMAT}\n${E2E_THINGS.join(',')}\n`);
  const visit = (path: string) => {
    if (!existsSync(path)) return;
    if (statSync(path).isDirectory()) {
      for (const entry of readdirSync(path).sort()) visit(join(path, entry));
      return;
    }
    hash.update(relative(REPO_ROOT, path));
    hash.update(readFileSync(path));
  };
  for (const p of INPUTS) visit(join(REPO_ROOT, p));
  return hash.digest('hex').slice(0, 24);
}

/** A private copy of the onboarded devices (keys, records) for one test file. */
export function copyDevices(assembly: SharedAssembly, to: string): string {
  cpSync(assembly.devicesDir, to, { recursive: true });
  return to;
}
