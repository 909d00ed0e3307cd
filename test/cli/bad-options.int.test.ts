/**
 * The zonectl command line given bad options: each run stops before any work with exit 1 and
 * one message naming the option, the value and what is expected; none prints a stack trace or
 * leaves a state dir.
 *
 * The bad options are parsed in this process, by the program `bin/zonectl.ts` runs
 * (`createProgram` with the same pre-action check of defaults that `runCli` installs): parsing
 * is all that happens before the refusal, so this tests the same thing as spawning zonectl once
 * per case, without fifteen TypeScript processes competing for a busy machine. A few cases
 * (one bad option, a default path, a failure during the work) run the real command
 * (`node bin/zonectl.mjs ...`, what `npx zonectl` runs), one after the other.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Command, CommanderError } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkOptions } from '../../cli/options';
import { createProgram } from '../../cli/program';
import { failureText } from '../../cli/run';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const ZONECTL = join(REPO_ROOT, 'bin', 'zonectl.mjs');
/** A spawned zonectl loads TypeScript through tsx: slow on a busy machine, so generous. */
const SPAWN_TIMEOUT_MS = 120_000;

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function zonectl(args: readonly string[], cwd = REPO_ROOT): Promise<Run> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [ZONECTL, ...args],
      { cwd, timeout: SPAWN_TIMEOUT_MS },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        done({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

/**
 * Parses `args` as `runCli` does, in this process: commander's messages and zonectl's own
 * failures go to the returned stderr, commander's exits become the exit code.
 */
async function parseInProcess(args: readonly string[]): Promise<Run> {
  let stderr = '';
  let stdout = '';
  const program = createProgram();
  const quiet = (command: Command) => {
    command.exitOverride().configureOutput({
      writeErr: (text) => {
        stderr += text;
      },
      writeOut: (text) => {
        stdout += text;
      },
    });
    for (const sub of command.commands) quiet(sub);
  };
  quiet(program);
  program.hook('preAction', (_program, command) => checkOptions(command));
  try {
    await program.parseAsync([...args], { from: 'user' });
    return { code: 0, stdout, stderr };
  } catch (err) {
    if (err instanceof CommanderError) return { code: err.exitCode, stdout, stderr };
    return { code: 1, stdout, stderr: `${stderr}zonectl: ${failureText(err, false)}\n` };
  }
}

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'cli-bad-options-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const STACK_LINE = /^\s+at .+:\d+:\d+\)?$/m;
const stateDirOf = (args: readonly string[]) =>
  join(root, `state-${args.join('-').replace(/[^a-z0-9-]/gi, '')}`);
const withStateDir = (args: readonly string[]) => [
  ...args,
  ...(args[0] === 'start' ? ['--state-dir', stateDirOf(args)] : []),
];

describe('zonectl with a bad option', () => {
  const cases: ReadonlyArray<{ args: string[]; message: RegExp }> = [
    {
      args: ['start', '--speed', 'abc'],
      message:
        /option '--speed <factor>' argument 'abc' is invalid\. Expected a factor above 0 and at most 1000000, e.g. 720, or 'max'/,
    },
    { args: ['start', '--speed', '0'], message: /option '--speed <factor>' argument '0' is invalid/ },
    {
      args: ['start', '--duration', '-1'],
      message:
        /option '--duration <seconds>' argument '-1' is invalid\. Expected a number of seconds above 0/,
    },
    {
      args: ['start', '--seed', 'abc'],
      message: /option '--seed <n>' argument 'abc' is invalid\. Expected a whole number from 0 to 4294967295/,
    },
    {
      args: ['start', '--glitch-rate', '5'],
      message: /option '--glitch-rate <p>' argument '5' is invalid\. Expected a probability from 0 to 1/,
    },
    {
      args: ['start', '--headless', '--duration', '5', '--mqtt-port', 'abc'],
      message: /option '--mqtt-port <n>' argument 'abc' is invalid\. Expected a port number from 0 to 65535/,
    },
    {
      args: ['local', 'up', '--mqtt-port', 'abc'],
      message: /option '--mqtt-port <n>' argument 'abc' is invalid\. Expected a port number/,
    },
    {
      args: ['local', 'up', '--api-port', '70000'],
      message: /option '--api-port <n>' argument '70000' is invalid/,
    },
    {
      args: ['local', 'deploy', '--assembly', '/'],
      message:
        /option '--assembly <dir>' argument '\/' is invalid\. Expected a cloud assembly directory .* holding manifest\.json/,
    },
    {
      args: ['onboard', 'no such thing'],
      message: /argument 'thing'\. Expected a thing name of letters, digits, '-' or '_'/,
    },
    {
      args: ['onboard', 'hq-lobby-climate', '--rotate', '--finish'],
      message: /option '--rotate' cannot be used with option '--finish'/,
    },
    {
      args: ['onboard', 'hq-lobby-climate', '--finish', '--certificate-id', 'xyz'],
      message: /option '--certificate-id <id>' argument 'xyz' is invalid\. Expected a certificate id of 64/,
    },
    {
      args: ['revoke', 'hq-lobby-climate', '--certificate-id', '123'],
      message: /option '--certificate-id <id>' argument '123' is invalid/,
    },
    {
      args: ['onboard', 'hq-lobby-climate', '--config', 'no-such.json'],
      message:
        /option '--config <file>' argument 'no-such.json' is invalid\. Expected a building config file that exists/,
    },
    {
      args: ['start', '--config', 'package.json'],
      message:
        /option '--config <file>' argument 'package.json' is invalid\. Invalid building config package.json:\n\s+- package.json: buildingId: got nothing/,
    },
  ];

  for (const { args, message } of cases) {
    it(`zonectl ${args.join(' ')}`, async () => {
      const run = await parseInProcess(withStateDir(args));
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(message);
      expect(run.stderr).not.toMatch(STACK_LINE);
      expect(existsSync(stateDirOf(args)), 'no state dir made before the options were checked').toBe(false);
    }, 30_000);
  }

  it(
    'stops the real command the same way: exit 1, the message, no stack trace, no state dir',
    async () => {
      const args = ['start', '--headless', '--duration', '5', '--mqtt-port', 'abc'];
      const run = await zonectl(withStateDir(args));
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(
        /option '--mqtt-port <n>' argument 'abc' is invalid\. Expected a port number/,
      );
      expect(run.stderr).not.toMatch(STACK_LINE);
      expect(existsSync(stateDirOf(args))).toBe(false);
    },
    SPAWN_TIMEOUT_MS + 10_000,
  );
});

// One after the other: each spawns zonectl.
describe('zonectl defaults and later failures', () => {
  it(
    'checks a default path like a typed one: start in a folder without building.json',
    async () => {
      const run = await zonectl(['start', '--headless', '--state-dir', join(root, 'never')], root);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(
        /option '--config <file>' default 'building.json' is invalid\. Expected a building config file that exists \(there is no building.json\)/,
      );
      expect(existsSync(join(root, 'never'))).toBe(false);
    },
    SPAWN_TIMEOUT_MS + 10_000,
  );

  it(
    'prints an onboarding failure as one message without a stack trace',
    async () => {
      const run = await zonectl(['onboard', 'hq-lobby-climat', '--devices-dir', join(root, 'devices')]);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(
        /^zonectl: No thing named "hq-lobby-climat" in building.json\. Did you mean "hq-lobby-climate"/,
      );
      expect(run.stderr).not.toMatch(STACK_LINE);
    },
    SPAWN_TIMEOUT_MS + 10_000,
  );

  it(
    'tells how to start the local cloud when `local deploy` finds none',
    async () => {
      const assembly = join(root, 'cdk.out');
      mkdirSync(assembly, { recursive: true });
      writeFileSync(join(assembly, 'manifest.json'), '{}');
      const run = await zonectl(['local', 'deploy', '--state-dir', root, '--assembly', assembly]);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/local cloud is not running.*zonectl local up/is);
      expect(run.stderr).not.toMatch(STACK_LINE);
    },
    SPAWN_TIMEOUT_MS + 10_000,
  );
});
