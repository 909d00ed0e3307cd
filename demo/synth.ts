import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { type BuildingClock, CONTEXT } from '../contracts';
import { DEFAULT_IDENTITY } from '../local/common/account';

/** The demo deploys into the local cloud, whose Region is fixed; the shell's AWS Region does not apply. */
const LOCAL_SYNTH_REGION = DEFAULT_IDENTITY.region;

/**
 * Synthesizes the project's CDK app into a cloud assembly with a building config and a CSR
 * folder of our choosing, and reuses an assembly none of whose inputs changed (the app, the
 * constructs, the handlers, the contracts, the lock file, the building config and the CSRs).
 *
 * Two ways to run it: `app` runs bin/app.ts the way `cdk synth` does (the context from cdk.json
 * plus ours in CDK_CONTEXT_JSON, the output directory in CDK_OUTDIR), which saves the CDK
 * CLI's start-up and is what the demo uses; `cdk-cli` runs `npx cdk synth` exactly as a user
 * would, which the end-to-end tests use.
 */

export interface SynthOptions {
  readonly repoRoot: string;
  readonly configPath: string;
  readonly csrDir: string;
  readonly outDir: string;
  /** @default 'app' */
  readonly via?: 'app' | 'cdk-cli';
  /** The zone controller's building clock (context zonectl:buildingClock). @default 'wall' */
  readonly buildingClock?: BuildingClock;
}

export interface SynthResult {
  readonly outDir: string;
  readonly cached: boolean;
  readonly ms: number;
}

/** What the synthesized assembly depends on besides the building config and the CSRs, from the repository root. */
export const SYNTH_INPUTS = [
  'bin/app.ts',
  'cdk.json',
  'package-lock.json',
  'lib',
  'lambda',
  'contracts',
] as const;
const HASH_FILE = '.zonectl-inputs';

export async function synthesize(options: SynthOptions): Promise<SynthResult> {
  const started = Date.now();
  const root = resolve(options.repoRoot);
  const outDir = resolve(options.outDir);
  const configPath = resolve(options.configPath);
  const csrDir = resolve(options.csrDir);
  const clock = options.buildingClock ?? 'wall';
  const inputs = synthInputsHash(root, [configPath, csrDir], clock === 'wall' ? '' : `clock=${clock}`);
  const hashFile = join(outDir, HASH_FILE);
  if (
    existsSync(join(outDir, 'manifest.json')) &&
    existsSync(hashFile) &&
    readFileSync(hashFile, 'utf8') === inputs
  ) {
    return { outDir, cached: true, ms: Date.now() - started };
  }
  if (options.via === 'cdk-cli') {
    await run(
      'npx cdk synth',
      'npx',
      [
        ...['cdk', 'synth', '--no-notices', '--quiet'],
        ...[
          '-c',
          `${CONTEXT.csrDir}=${csrDir}`,
          '-c',
          `${CONTEXT.buildingConfig}=${configPath}`,
          ...(clock === 'wall' ? [] : ['-c', `${CONTEXT.buildingClock}=${clock}`]),
          '-c',
          `${CONTEXT.region}=${LOCAL_SYNTH_REGION}`,
          '-o',
          outDir,
        ],
      ],
      { cwd: root, env: { ...process.env, CI: 'true' } },
    );
  } else {
    const cdkJson = JSON.parse(readFileSync(join(root, 'cdk.json'), 'utf8')) as {
      context?: Record<string, unknown>;
    };
    const context = {
      ...(cdkJson.context ?? {}),
      [CONTEXT.buildingConfig]: configPath,
      [CONTEXT.csrDir]: csrDir,
      ...(clock === 'wall' ? {} : { [CONTEXT.buildingClock]: clock }),
      [CONTEXT.region]: LOCAL_SYNTH_REGION,
    };
    await run('synthesizing the CDK app', process.execPath, ['--import', 'tsx', 'bin/app.ts'], {
      cwd: root,
      env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify(context), CDK_OUTDIR: outDir },
    });
  }
  writeFileSync(hashFile, inputs);
  return { outDir, cached: false, ms: Date.now() - started };
}

/**
 * A hash of the synth inputs under `root` and of `extra` files or folders (paths and contents);
 * `salt` adds anything else the caller's cache depends on.
 */
export function synthInputsHash(root: string, extra: readonly string[] = [], salt = ''): string {
  const hash = createHash('sha256');
  hash.update(salt);
  const visit = (path: string) => {
    if (!existsSync(path)) return;
    if (statSync(path).isDirectory()) {
      for (const entry of readdirSync(path).sort()) visit(join(path, entry));
      return;
    }
    hash.update(relative(root, path));
    hash.update(readFileSync(path));
  };
  for (const p of [...SYNTH_INPUTS.map((p) => join(root, p)), ...extra]) visit(p);
  return hash.digest('hex');
}

/** Runs a command to completion; a failure carries the end of its output. */
function run(
  what: string,
  command: string,
  args: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv },
): Promise<void> {
  return new Promise<void>((done, fail) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
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
      else fail(new Error(`${what} failed (exit ${code}):\n${output.trim().slice(-4000)}`));
    });
  });
}
