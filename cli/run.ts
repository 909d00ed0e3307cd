/**
 * Runs the zonectl program: parses the command line (every option is checked there, see
 * cli/options.ts) and runs the command, and prints any failure for people, never as a raw stack
 * trace. Expected failures (a bad option, a config with a wrong field, a local cloud that is
 * not running, a device that is not onboarded...) print their message and exit 1; anything else
 * is a bug and prints its name and message with a hint to set ZONECTL_DEBUG=1 for the stack.
 */
import { type Command, CommanderError } from 'commander';
import { BuildingConfigError, LocalEndpointsError } from '../contracts/errors';
import { BundleError } from '../device/bundle-error';
import { OnboardError } from '../provisioning/errors';
import { CliError, checkOptions } from './options';

/** Error classes whose message is written for people and says what to do. */
const EXPECTED: ReadonlyArray<abstract new (...args: never[]) => Error> = [
  CliError,
  OnboardError,
  BuildingConfigError,
  LocalEndpointsError,
  BundleError,
];

export function isExpectedError(err: unknown): err is Error {
  return EXPECTED.some((type) => err instanceof type);
}

/** The text printed for a failure: the message of an expected error, else name, message and the debug hint. */
export function failureText(err: unknown, debug = process.env.ZONECTL_DEBUG === '1'): string {
  if (isExpectedError(err)) return err.message;
  const e = err instanceof Error ? err : new Error(String(err));
  if (debug) return `unexpected error: ${e.stack ?? `${e.name}: ${e.message}`}`;
  return `unexpected error: ${e.name}: ${e.message}\n(set ZONECTL_DEBUG=1 to see where it came from)`;
}

/** Prints a failure as zonectl does and sets exit code 1. */
export function reportFailure(err: unknown): void {
  process.stderr.write(`zonectl: ${failureText(err)}\n`);
  process.exitCode = 1;
}

/** Parses `argv` and runs the chosen command; failures are printed by `reportFailure`. */
export async function runCli(program: Command, argv: readonly string[]): Promise<void> {
  process.on('unhandledRejection', (reason) => {
    reportFailure(reason);
    process.exit(1);
  });
  program.hook('preAction', (_program, command) => checkOptions(command));
  try {
    await program.parseAsync(argv as string[]);
  } catch (err) {
    // Commander has printed its own message (a bad option, a missing argument) and set the code.
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    reportFailure(err);
  }
}
