import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

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

/**
 * One worker more than there are cores. Vitest's default (one fewer) runs the files one at a
 * time on a 2-core machine, while most integration and e2e files spend their time waiting on
 * the child processes they start (a local cloud, the AWS CLI, an agent): one more file in
 * flight uses those waits. Every test takes its ports from the system (port 0) and its state
 * from a temporary directory of its own, so files do not meet.
 */
const WORKERS = availableParallelism() + 1;

/**
 * Vitest's order (longest first once it has timed a run; larger files first on a clean
 * checkout such as CI's), except that the files running the documentation's examples start
 * first: they are small files that take the longest (each runs a sequence of commands in a copy
 * of the checkout), and started last they would run alone at the end.
 */
class DocsFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const docs = (spec: TestSpecification) => /\/doc-examples-[^/]*\.e2e\.test\.ts$/.test(spec.moduleId);
    return [...sorted.filter(docs), ...sorted.filter((spec) => !docs(spec))];
  }
}

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: WORKERS,
    sequence: { sequencer: DocsFirst },
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    projects: [
      {
        extends: true,
        // Unit files share one module graph per worker (no per-file isolation): the AWS SDK and
        // CDK load once per worker, not once per file. Unit tests must not leave global state.
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
