import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';

/**
 * Bundles a fixture into one index.js (CJS) or index.mjs (ESM). `external` packages are left for
 * the runtime to provide, as lib/bundle-handler.mjs leaves `@aws-sdk/*`.
 */
export async function bundleFixture(
  entry: string,
  format: 'cjs' | 'esm' = 'cjs',
  external: readonly string[] = [],
): Promise<string> {
  const outdir = mkdtempSync(join(tmpdir(), 'zonectl-asset-'));
  await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format,
    outfile: join(outdir, format === 'esm' ? 'index.mjs' : 'index.js'),
    external: [...external],
    logLevel: 'silent',
  });
  return outdir;
}

export const HANDLERS = new URL('./fixtures/handlers.ts', import.meta.url).pathname;

export const SDK_HANDLER = new URL('./fixtures/sdk-handler.ts', import.meta.url).pathname;

export const ZOD_HANDLER = new URL('./fixtures/zod-handler.ts', import.meta.url).pathname;
