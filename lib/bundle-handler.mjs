// Bundles one Lambda handler for the nodejs22.x runtime:
//   node lib/bundle-handler.mjs <entry.ts> <output dir>
// writes <output dir>/index.js (CommonJS, minified) and prints the bundle's inputs as JSON.
//
// Plain JavaScript run by bare `node`, because CDK asks for the bundle synchronously
// (ILocalBundling.tryBundle) and esbuild runs plugins only in its asynchronous API.
//
// What is left out, and why:
// - `@aws-sdk/*`: the Node.js managed runtimes from nodejs18.x on include the AWS SDK for
//   JavaScript v3 (AWS Lambda Developer Guide, "Building Lambda functions with Node.js" and
//   "Lambda runtimes" > "Runtime-included SDK versions"); the handler's `require` finds it on
//   the runtime's NODE_PATH ("Defined runtime environment variables"). The local Lambda provides
//   it the same way.
// - zod's locale namespaces: `z.locales` and `z.core.locales` re-export every translation of
//   zod's error messages (about 260 KB minified); the handlers use the English default only.
//   lib/zod-english-only.mjs gives both namespaces just `en`.
import { join } from 'node:path';
import { build } from 'esbuild';
import { zodEnglishOnly } from './zod-english-only.mjs';

const [entry, outDir] = process.argv.slice(2);
if (!entry || !outDir) {
  process.stderr.write('usage: node lib/bundle-handler.mjs <entry.ts> <output dir>\n');
  process.exit(2);
}

try {
  const result = await build({
    entryPoints: [entry],
    outfile: join(outDir, 'index.js'),
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    external: ['@aws-sdk/*'],
    metafile: true,
    logLevel: 'warning',
    plugins: [zodEnglishOnly],
  });
  const inputs = Object.keys(Object.values(result.metafile.outputs)[0]?.inputs ?? {});
  process.stdout.write(`${JSON.stringify({ inputs })}\n`);
} catch (err) {
  process.stderr.write(`bundling ${entry} failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
