import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { CONTEXT } from '../contracts';

/**
 * Synthesizes the project's CDK app into a cloud assembly, the way `cdk synth` runs it: the
 * app command with the context from cdk.json plus ours in CDK_CONTEXT_JSON and the output
 * directory in CDK_OUTDIR. The assembly is reused when none of its inputs changed (the app,
 * the constructs, the handlers, the contracts, the building config and the CSRs).
 */

export interface SynthOptions {
  readonly repoRoot: string;
  readonly configPath: string;
  readonly csrDir: string;
  readonly outDir: string;
}

export interface SynthResult {
  readonly outDir: string;
  readonly cached: boolean;
  readonly ms: number;
}

const INPUTS = ['bin/app.ts', 'cdk.json', 'package-lock.json', 'lib', 'lambda', 'contracts'];
const HASH_FILE = '.zonectl-inputs';

export async function synthesize(options: SynthOptions): Promise<SynthResult> {
  const started = Date.now();
  const root = resolve(options.repoRoot);
  const outDir = resolve(options.outDir);
  const inputs = inputHash(root, [
    ...INPUTS.map((p) => join(root, p)),
    resolve(options.configPath),
    resolve(options.csrDir),
  ]);
  const hashFile = join(outDir, HASH_FILE);
  if (
    existsSync(join(outDir, 'manifest.json')) &&
    existsSync(hashFile) &&
    readFileSync(hashFile, 'utf8') === inputs
  ) {
    return { outDir, cached: true, ms: Date.now() - started };
  }
  const cdkJson = JSON.parse(readFileSync(join(root, 'cdk.json'), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  const context = {
    ...(cdkJson.context ?? {}),
    [CONTEXT.buildingConfig]: resolve(options.configPath),
    [CONTEXT.csrDir]: resolve(options.csrDir),
  };
  await new Promise<void>((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bin/app.ts'], {
      cwd: root,
      env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify(context), CDK_OUTDIR: outDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
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
      else fail(new Error(`synthesizing the CDK app failed (exit ${code}):\n${output.trim()}`));
    });
  });
  writeFileSync(hashFile, inputs);
  return { outDir, cached: false, ms: Date.now() - started };
}

function inputHash(root: string, paths: readonly string[]): string {
  const hash = createHash('sha256');
  const visit = (path: string) => {
    if (!existsSync(path)) return;
    const stat = statSync(path);
    if (stat.isDirectory()) {
      for (const entry of readdirSync(path).sort()) visit(join(path, entry));
      return;
    }
    hash.update(relative(root, path));
    hash.update(readFileSync(path));
  };
  for (const p of paths) visit(p);
  return hash.digest('hex');
}
