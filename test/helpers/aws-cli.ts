/**
 * The AWS CLI the tests run: Debian's /usr/bin/aws (AWS CLI v2.9, whose botocore still speaks
 * SQS's query protocol), or $AWS_CLI. Not the `aws` first on PATH, which may be another
 * version. With throwaway credentials and no user configuration.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe } from 'vitest';

/** The CLI to test with, or undefined (the tests are then skipped, saying why). */
export const AWS_CLI: string | undefined = [process.env.AWS_CLI, '/usr/bin/aws'].find(
  (c): c is string => !!c && existsSync(c),
);

export const AWS_CLI_MISSING = 'the AWS CLI is not installed (apt-get install -y awscli)';

/**
 * The timeout of a test that runs the CLI several times. Each run starts a Python interpreter
 * and loads botocore: about a second alone, several seconds while other test files use the
 * cores. A stalled run is caught by the 30 s limit of each run, not by this.
 */
const CLI_TEST_TIMEOUT_MS = 120_000;

/**
 * A `describe` of tests that run the CLI: skipped, saying so, where it is not installed, and
 * with the timeout of tests that run it several times.
 */
export function describeWithCli(name: string, tests: () => void): void {
  describe.skipIf(!AWS_CLI)(name, { timeout: CLI_TEST_TIMEOUT_MS }, tests);
}

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOptions {
  /** The local API endpoint (`--endpoint-url`). */
  readonly endpoint: string;
  /** HOME for the CLI (it writes a cache there). */
  readonly home: string;
  readonly region?: string;
}

/** Runs `aws <args> --endpoint-url <endpoint> --output json`; never rejects, reports the exit code. */
export function runAwsCli(args: readonly string[], options: CliOptions): Promise<CliRun> {
  const cli = AWS_CLI;
  if (!cli) throw new Error(AWS_CLI_MISSING);
  return new Promise((resolve) => {
    execFile(
      cli,
      [...args, '--endpoint-url', options.endpoint, '--output', 'json'],
      {
        encoding: 'utf8',
        timeout: 30_000,
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: options.home,
          AWS_ACCESS_KEY_ID: 'AKIDLOCAL',
          AWS_SECRET_ACCESS_KEY: 'local-secret',
          AWS_DEFAULT_REGION: options.region ?? 'us-east-1',
          AWS_CONFIG_FILE: '/dev/null',
          AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
          AWS_EC2_METADATA_DISABLED: 'true',
          AWS_MAX_ATTEMPTS: '1',
          AWS_PAGER: '',
        },
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

/** Runs the CLI and parses its JSON output; throws with its stderr when it fails. */
export async function awsJson<T = Record<string, unknown>>(
  args: readonly string[],
  options: CliOptions,
): Promise<T> {
  const out = await runAwsCli(args, options);
  if (out.code !== 0) throw new Error(`aws ${args.join(' ')} exited ${out.code}: ${out.stderr.trim()}`);
  return (out.stdout.trim() === '' ? {} : JSON.parse(out.stdout)) as T;
}
