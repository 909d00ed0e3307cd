import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';

/** Bundles a fixture like the CDK's NodejsFunction does: one index.js (CJS) or index.mjs (ESM). */
export async function bundleFixture(entry: string, format: 'cjs' | 'esm' = 'cjs'): Promise<string> {
  const outdir = mkdtempSync(join(tmpdir(), 'zonectl-asset-'));
  await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format,
    outfile: join(outdir, format === 'esm' ? 'index.mjs' : 'index.js'),
    logLevel: 'silent',
  });
  return outdir;
}

export const HANDLERS = new URL('./fixtures/handlers.ts', import.meta.url).pathname;

export const SDK_HANDLER = new URL('./fixtures/sdk-handler.ts', import.meta.url).pathname;
