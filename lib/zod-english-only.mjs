// esbuild plugin: zod's locale namespaces (`z.locales`, `z.core.locales`) re-export every
// translation of zod's error messages, about 260 KB minified; zonectl speaks English only, so
// both namespaces get just `en`. Used by the Lambda bundler (lib/bundle-handler.mjs) and by the
// CLI's build (bin/launcher.mjs). Plain JavaScript: both run before TypeScript can load.
import { dirname, join } from 'node:path';

/** Resolves zod's `../locales/index.js` to a module that exports only the English locale. */
export const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) => {
      if (!/[\\/]node_modules[\\/]zod[\\/]/.test(args.importer)) return undefined;
      return { path: join(dirname(args.importer), '..', 'locales', 'en.js'), namespace: 'zod-locales' };
    });
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(args.path)};`,
      resolveDir: dirname(args.path),
      loader: 'js',
    }));
  },
};
