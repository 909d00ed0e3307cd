/**
 * The zonectl command as a user runs it (`node bin/zonectl.mjs ...`, what `npx zonectl` runs),
 * given bad options: each run stops before any work with exit 1 and one message naming the
 * option, the value and what is expected; none prints a stack trace or leaves a state dir.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const ZONECTL = join(REPO_ROOT, 'bin', 'zonectl.mjs');

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function zonectl(args: readonly string[], cwd = REPO_ROOT): Promise<Run> {
  return new Promise((done) => {
    execFile(process.execPath, [ZONECTL, ...args], { cwd, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      done({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'cli-bad-options-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const STACK_LINE = /^\s+at .+:\d+:\d+\)?$/m;

describe.concurrent('zonectl with a bad option', () => {
  const cases: ReadonlyArray<{ args: string[]; message: RegExp }> = [
    {
      args: ['start', '--speed', 'abc'],
      message: /option '--speed <factor>' argument 'abc' is invalid\. Expected a number above 0/,
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
      const stateDir = join(root, `state-${args.join('-').replace(/[^a-z0-9-]/gi, '')}`);
      const run = await zonectl([...args, ...(args[0] === 'start' ? ['--state-dir', stateDir] : [])]);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(message);
      expect(run.stderr).not.toMatch(STACK_LINE);
      expect(existsSync(stateDir), 'no state dir made before the options were checked').toBe(false);
    });
  }
});

describe('zonectl defaults and later failures', () => {
  it('checks a default path like a typed one: start in a folder without building.json', async () => {
    const run = await zonectl(['start', '--headless', '--state-dir', join(root, 'never')], root);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /option '--config <file>' default 'building.json' is invalid\. Expected a building config file that exists \(there is no building.json\)/,
    );
    expect(existsSync(join(root, 'never'))).toBe(false);
  });

  it('prints an onboarding failure as one message without a stack trace', async () => {
    const run = await zonectl(['onboard', 'hq-lobby-climat', '--devices-dir', join(root, 'devices')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^zonectl: No thing named "hq-lobby-climat" in building.json\. Did you mean "hq-lobby-climate"/,
    );
    expect(run.stderr).not.toMatch(STACK_LINE);
  });

  it('tells how to start the local cloud when `local deploy` finds none', async () => {
    const assembly = join(root, 'cdk.out');
    mkdirSync(assembly, { recursive: true });
    writeFileSync(join(assembly, 'manifest.json'), '{}');
    const run = await zonectl(['local', 'deploy', '--state-dir', root, '--assembly', assembly]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/local cloud is not running.*zonectl local up/is);
    expect(run.stderr).not.toMatch(STACK_LINE);
  });
});
