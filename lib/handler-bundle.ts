import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Bundles a handler entry into `outDir/index.js` with lib/bundle-handler.mjs (esbuild, Node.js
 * 22, CommonJS, minified, `@aws-sdk/*` left to the runtime, zod without its translations) and
 * returns the source files that went into the bundle. Throws with esbuild's message when the
 * bundle cannot be built, so `cdk synth` fails naming the entry.
 *
 * LIMITATIONS: needs the project's own esbuild (a devDependency), as the CDK's NodejsFunction
 * does for local bundling; there is no Docker fallback.
 */
export const BUNDLER_SCRIPT = fileURLToPath(new URL('./bundle-handler.mjs', import.meta.url));

export function bundleHandler(entry: string, outDir: string): { inputs: string[] } {
  const run = spawnSync(process.execPath, [BUNDLER_SCRIPT, entry, outDir], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (run.error) throw new Error(`could not run the Lambda bundler for ${entry}: ${run.error.message}`);
  if (run.status !== 0) {
    throw new Error(
      `the Lambda bundle of ${entry} could not be built (exit ${run.status}):\n${run.stderr.trim()}`,
    );
  }
  const lastLine = run.stdout.trim().split('\n').at(-1) ?? '{}';
  return JSON.parse(lastLine) as { inputs: string[] };
}
