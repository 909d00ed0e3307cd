/**
 * The one way a zonectl command reads its options and arguments: every value is checked when
 * the command line is parsed, before any work starts (no onboarding, synth or port opened for
 * a command whose last option is wrong). A bad value stops the command with exit 1 and one
 * line that names the option, the value given and what is expected, for example:
 *
 *   error: option '--speed <factor>' argument 'abc' is invalid. Expected a positive number or 'max', e.g. 720.
 *
 * Commands use `option(...)` / `argument(...)` with one of the parsers below (or their own
 * built with `check`); a parser throws commander's InvalidArgumentError, which commander prints
 * as above. A check that needs modules the command list does not load (the building config's
 * schema) runs once the command line is parsed, before the action, with the same message
 * (`checkOptions`). Anything that can only be checked once the work starts (a local cloud that
 * does not answer, a stack that is not deployed) is a `CliError` or a library's own error with
 * an actionable message; `runCli` (cli/run.ts) prints those without a stack trace.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Argument, type Command, InvalidArgumentError, Option } from 'commander';
import { BuildingConfigError } from '../contracts/errors';
import { THING_NAME_PATTERN } from '../contracts/ids';
import { DEFAULT_LOCAL_STATE_DIR } from '../contracts/paths';

/** Turns an option's text into its value, or throws InvalidArgumentError saying what is expected. */
export type Parser<T> = (value: string) => T;

/** An expected failure that can only be seen once the command runs; printed without a stack trace. */
export class CliError extends Error {
  override readonly name = 'CliError';
}

const invalid = (expected: string): never => {
  throw new InvalidArgumentError(`Expected ${expected}.`);
};

/** A parser from a test and a description of what is expected. */
export function check<T>(expected: string, parse: (value: string) => T | undefined): Parser<T> {
  return (value) => {
    const out = parse(value);
    return out === undefined ? invalid(expected) : out;
  };
}

/** Decimal numbers only: '', '0x10', '1e3', ' 5' and 'Infinity' are refused (Number() takes them all). */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)$/;

export interface NumberRule {
  /** What the number is, for the message, e.g. 'a number of seconds'. */
  readonly what: string;
  readonly min?: number;
  readonly max?: number;
  /** The smallest value is excluded (for "positive"). */
  readonly minExclusive?: boolean;
  readonly integer?: boolean;
  /** Shown after the range, e.g. 'e.g. 720'. */
  readonly example?: string;
}

function describeNumber(r: NumberRule): string {
  const range =
    r.min !== undefined && r.max !== undefined
      ? r.minExclusive
        ? ` above ${r.min} and at most ${r.max}`
        : ` from ${r.min} to ${r.max}`
      : r.min !== undefined
        ? r.minExclusive
          ? ` above ${r.min}`
          : ` of at least ${r.min}`
        : r.max !== undefined
          ? ` of at most ${r.max}`
          : '';
  return `${r.what}${range}${r.example ? `, ${r.example}` : ''}`;
}

/** A decimal number (or whole number) within a range. */
export function numberIn(rule: NumberRule): Parser<number> {
  const expected = describeNumber(rule);
  return check(expected, (value) => {
    const text = value.trim();
    if (!DECIMAL.test(text)) return undefined;
    const n = Number(text);
    if (!Number.isFinite(n)) return undefined;
    if (rule.integer && !Number.isInteger(n)) return undefined;
    if (rule.min !== undefined && (rule.minExclusive ? n <= rule.min : n < rule.min)) return undefined;
    if (rule.max !== undefined && n > rule.max) return undefined;
    return n;
  });
}

/** A TCP port; 0 lets the system pick a free one. */
export const port: Parser<number> = numberIn({
  what: 'a port number',
  min: 0,
  max: 65_535,
  integer: true,
  example: '0 picks a free port',
});

/** One of a fixed list of words. */
export function oneOf<const T extends string>(values: readonly T[]): Parser<T> {
  return check(`one of ${values.join(', ')}`, (value) =>
    (values as readonly string[]).includes(value) ? (value as T) : undefined,
  );
}

/** Text that matches a pattern. */
export function matching(pattern: RegExp, expected: string): Parser<string> {
  return check(expected, (value) => (pattern.test(value) ? value : undefined));
}

/** A thing name as AWS IoT and the building config accept it. */
export const thingName: Parser<string> = matching(
  THING_NAME_PATTERN,
  "a thing name of letters, digits, '-' or '_', 1-128 characters, e.g. hq-lobby-climate",
);

/** An AWS IoT certificate id: the 64 hexadecimal characters of the certificate's SHA-256. */
export const certificateId: Parser<string> = matching(
  /^[0-9a-f]{64}$/,
  'a certificate id of 64 lower-case hexadecimal characters',
);

/** A CloudFormation stack name: a letter, then letters, digits and '-', at most 128 characters. */
export const stackName: Parser<string> = matching(
  /^[a-zA-Z][-a-zA-Z0-9]{0,127}$/,
  "a stack name that starts with a letter and holds only letters, digits and '-' (at most 128), e.g. Zonectl-hq",
);

function kindOf(path: string): 'file' | 'directory' | 'other' | undefined {
  try {
    const s = statSync(path);
    return s.isFile() ? 'file' : s.isDirectory() ? 'directory' : 'other';
  } catch {
    return undefined;
  }
}

/** A file that exists; `what` names it in the message. */
export function existingFile(what: string): Parser<string> {
  return (value) => {
    const kind = kindOf(resolve(value));
    if (kind === 'file') return value;
    return invalid(
      kind === undefined ? `${what} that exists (there is no ${value})` : `${what}, not a ${kind}`,
    );
  };
}

/** A directory that exists and holds `mustHold` (a file name), if given. */
export function existingDirectory(what: string, mustHold?: string): Parser<string> {
  return (value) => {
    const path = resolve(value);
    const kind = kindOf(path);
    if (kind !== 'directory')
      return invalid(
        kind === undefined ? `${what} that exists (there is no ${value})` : `${what}, not a ${kind}`,
      );
    if (mustHold && !existsSync(join(path, mustHold)))
      return invalid(`${what} holding ${mustHold} (${value} has none)`);
    return value;
  };
}

/**
 * A directory the command may create: it exists, or the nearest folder above it that exists is a
 * directory (so `mkdir -p` would succeed as far as the path goes).
 */
export function directoryToUse(what: string): Parser<string> {
  return (value) => {
    if (value.trim() === '') return invalid(`${what} path`);
    let path = resolve(value);
    const kind = kindOf(path);
    if (kind === 'directory') return value;
    if (kind !== undefined) return invalid(`${what}, not a ${kind}`);
    for (;;) {
      const parent = dirname(path);
      const parentKind = kindOf(parent);
      if (parentKind === 'directory') return value;
      if (parentKind !== undefined)
        return invalid(`${what} that can be created (${parent} is a ${parentKind}, not a directory)`);
      if (parent === path) return invalid(`${what} that can be created`);
      path = parent;
    }
  };
}

/** A check of a parsed value that loads what it needs; throws InvalidArgumentError like a parser. */
type DeferredCheck = (value: string) => Promise<void>;

/** The deferred check of a parser, run by `checkOptions` before the action. */
const deferredChecks = new WeakMap<Parser<unknown>, DeferredCheck>();

/**
 * A building config file that exists and is valid. Existence is checked as the command line is
 * read; the whole config once it is parsed, before the command does anything (the schema loads
 * only then, so `--help` does not pay for it), with the field, the value and what is expected.
 */
export const buildingConfigFile: Parser<string> = (value) => existingFile('a building config file')(value);

/** The whole building config at `path`; a bad one throws InvalidArgumentError naming each bad field. */
export async function checkBuildingConfig(path: string): Promise<void> {
  const { parseBuildingConfigText } = await import('../contracts/building');
  try {
    parseBuildingConfigText(readFileSync(resolve(path), 'utf8'), path);
  } catch (err) {
    if (err instanceof BuildingConfigError) {
      throw new InvalidArgumentError(`${err.message.replace(/\nFix the fields above.*$/s, '')}`);
    }
    throw err;
  }
}
deferredChecks.set(buildingConfigFile, checkBuildingConfig);

const parsers = new WeakMap<Option, Parser<unknown>>();

/**
 * An option whose value goes through `parse`; `defaultValue` is shown in --help. A default that
 * is a path is checked too, before the command runs (see `checkOptions`).
 */
export function option<T>(flags: string, description: string, parse: Parser<T>, defaultValue?: T): Option {
  const o = new Option(flags, description).argParser((value: string) => parse(value));
  parsers.set(o, parse as Parser<unknown>);
  return defaultValue === undefined ? o : o.default(defaultValue);
}

/**
 * Checks the default of every option made with `option` that the user did not give (commander
 * parses only what is typed): `zonectl start` in a folder without building.json stops here with
 * the option, the default and what is expected, like a typed value would. Then runs the deferred
 * checks (`buildingConfigFile`'s whole config) of typed values and defaults alike. Installed as a
 * preAction hook by `runCli`.
 */
export async function checkOptions(command: Command): Promise<void> {
  for (const o of command.options) {
    const parse = parsers.get(o);
    const name = o.attributeName();
    if (!parse) continue;
    const value = command.getOptionValue(name) as unknown;
    if (typeof value !== 'string') continue;
    const isDefault = command.getOptionValueSource(name) === 'default';
    try {
      if (isDefault) parse(value);
      await deferredChecks.get(parse)?.(value);
    } catch (err) {
      if (!(err instanceof InvalidArgumentError)) throw err;
      const given = isDefault ? `default '${value}'` : `argument '${value}'`;
      command.error(`error: option '${o.flags}' ${given} is invalid. ${err.message}`, {
        exitCode: 1,
        code: 'commander.invalidArgument',
      });
    }
  }
}

/** A positional argument whose value goes through `parse`. */
export function argument<T>(name: string, description: string, parse: Parser<T>): Argument {
  return new Argument(name, description).argParser((value: string) => parse(value));
}

/** `--state-dir` of the local cloud a command starts or talks to (made if missing). */
export const localStateDirOption = (description = 'local cloud state directory'): Option =>
  option('--state-dir <dir>', description, directoryToUse('a directory'), DEFAULT_LOCAL_STATE_DIR);

/** `--state-dir` of a local cloud that must be running (so the directory exists). */
export const runningStateDirOption = (): Option =>
  option(
    '--state-dir <dir>',
    "the running local cloud's state dir",
    existingDirectory('the state dir of a local cloud (`npx zonectl local up` makes it)'),
    DEFAULT_LOCAL_STATE_DIR,
  );
