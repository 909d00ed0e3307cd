import { defineConfig } from 'vitest/config';

/**
 * Four projects, chosen by a test file's suffix; `npm test` runs them all, and
 * `npx vitest --project unit` gives feedback in seconds while working:
 *   unit         *.test.ts            pure logic and in-process stores: no sockets, no child processes
 *   integration  *.int.test.ts        one local service (or a CDK synth) with real sockets, clients and files
 *   e2e          *.e2e.test.ts        device agents against the whole local cloud running the synthesized stack
 *   browser      *.browser.test.ts    the dashboard in headless Chromium
 */
const SUFFIXES = {
  integration: 'test/**/*.int.test.ts',
  e2e: 'test/**/*.e2e.test.ts',
  browser: 'test/**/*.browser.test.ts',
} as const;

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    projects: [
      {
        extends: true,
        // Unit files share one module graph (no per-file isolation): the AWS SDK and CDK load once,
        // which takes the run from about 30 s to under 10 s. Unit tests must not leave global state.
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: Object.values(SUFFIXES),
          pool: 'threads',
          isolate: false,
        },
      },
      ...Object.entries(SUFFIXES).map(([name, include]) => ({
        extends: true as const,
        test: { name, include: [include] },
      })),
    ],
  },
});
