/**
 * How the docs tests run the documentation's command examples as written, so the docs cannot
 * rot: every `sh` block of a document (test/helpers/doc-examples.ts says how blocks are read
 * and marked), in document order, in a fresh copy of this checkout per document.
 *
 * What the sandbox is: the repository's files (tracked and new, not ignored) copied to a temp
 * dir, with this checkout's node_modules linked in, HOME inside it, and on PATH Debian's AWS
 * CLI as `aws`. Two commands are not run as such: `npm ci` (the sandbox already is a checkout
 * after `npm ci`) and `npm test` (this test is part of it); `npm install` and friends are
 * refused so the shared node_modules is never changed. The local cloud's default ports come
 * from ZONECTL_MQTT_PORT / ZONECTL_API_PORT = 0, so nothing here takes a fixed port; the
 * examples reach the cloud through `eval "$(npx zonectl local env)"`.
 *
 * A block marked `# Needs an AWS account` or `# On the device` is skipped, and says so in
 * the test name.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { AWS_CLI } from './aws-cli';
import { type DocCommand, docBlocks, programOf } from './doc-examples';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const COMMAND_TIMEOUT_MS = 300_000;
const READY_TIMEOUT_MS = 300_000;

interface Sandbox {
  readonly dir: string;
  readonly env: NodeJS.ProcessEnv;
  readonly envFile: string;
  readonly running: Array<{ command: DocCommand; child: ChildProcess; output: () => string }>;
}

const sandboxes: Sandbox[] = [];

function makeSandbox(): Sandbox {
  const base = mkdtempSync(join(tmpdir(), 'zonectl-docs-'));
  const dir = join(base, 'zonectl');
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], {
    cwd: ROOT,
    encoding: 'utf8',
  })
    .split('\0')
    .filter((f) => f !== '' && existsSync(join(ROOT, f)));
  for (const f of files) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    cpSync(join(ROOT, f), join(dir, f));
  }
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  const bin = join(base, 'bin');
  mkdirSync(bin);
  if (AWS_CLI) symlinkSync(AWS_CLI, join(bin, 'aws'));
  const realNpm = execFileSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim();
  writeFileSync(
    join(bin, 'npm'),
    [
      '#!/bin/sh',
      'case "$1" in',
      '  ci) echo "npm ci: this checkout already has its dependencies (docs test)"; exit 0;;',
      '  test|t) echo "npm test: not run inside the docs test, which is part of it"; exit 0;;',
      '  install|i|add|uninstall|update|rebuild) echo "npm $1: the docs test never changes the shared node_modules" >&2; exit 1;;',
      'esac',
      `exec "${realNpm}" "$@"`,
      '',
    ].join('\n'),
  );
  chmodSync(join(bin, 'npm'), 0o755);
  const home = join(base, 'home');
  mkdirSync(home);
  const envFile = join(base, 'env.sh');
  writeFileSync(envFile, '');
  const env: NodeJS.ProcessEnv = {
    PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    HOME: home,
    LANG: 'C.UTF-8',
    TMPDIR: tmpdir(),
    ZONECTL_API_PORT: '0',
    ZONECTL_MQTT_PORT: '0',
    AWS_PAGER: '',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    NO_COLOR: '1',
  };
  const sandbox = { dir, env, envFile, running: [] };
  sandboxes.push(sandbox);
  return sandbox;
}

/**
 * The shell script that runs one command with the state earlier commands exported. A command
 * that ends by itself writes through a pipe, as in a terminal's `| cat`: Node gives a child
 * sockets for its output, and a program that opens /dev/stdout (`aws ... /dev/stdout`) cannot
 * open a socket. One that runs until Ctrl-C writes straight to its socket: a pipe's `cat` would
 * get the Ctrl-C too and take the output away while the command prints its summary.
 */
const script = (s: Sandbox, command: string, untilInterrupted: boolean) =>
  untilInterrupted
    ? `set -eo pipefail\n. '${s.envFile}'\ncd '${s.dir}'\n${command}\n`
    : `set -eo pipefail\n. '${s.envFile}'\ncd '${s.dir}'\n{\n${command}\nexport -p > '${s.envFile}'\n} 2>&1 | cat\n`;

function run(s: Sandbox, command: DocCommand): Promise<{ code: number | null; output: string }> {
  return new Promise((done) => {
    const child = spawn('bash', ['-c', script(s, command.text, false)], { env: s.env, detached: true });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => {
      output += `\n[docs test: no exit after ${COMMAND_TIMEOUT_MS} ms, interrupted]`;
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    }, COMMAND_TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, output });
    });
  });
}

/** Starts a command that runs until Ctrl-C; resolves once it printed a line with "Ctrl-C". */
function start(s: Sandbox, command: DocCommand): Promise<void> {
  return new Promise((ready, failed) => {
    const child = spawn('bash', ['-c', script(s, command.text, true)], {
      env: s.env,
      detached: true,
    });
    let output = '';
    let settled = false;
    const onData = (d: Buffer) => {
      output += d;
      if (!settled && /Ctrl-C/i.test(output)) {
        settled = true;
        ready();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      failed(new Error(`not ready after ${READY_TIMEOUT_MS} ms:\n${tail(output)}`));
    }, READY_TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (!settled) {
        settled = true;
        failed(new Error(`exited ${code} before it was ready:\n${tail(output)}`));
      }
    });
    s.running.push({ command, child, output: () => output });
  });
}

/** Whether any process of a process group is left. */
function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Interrupts what runs until Ctrl-C (newest first), as Ctrl-C in a terminal does: SIGINT to
 * its whole process group. Each must end with exit code 0 or by the SIGINT itself (a wrapper
 * such as npx may pass the signal on), and leave no process of its group running.
 */
async function interrupt(
  s: Sandbox,
  which: (command: DocCommand) => boolean = () => true,
): Promise<string[]> {
  const problems: string[] = [];
  for (const entry of [...s.running].reverse().filter(({ command }) => which(command))) {
    s.running.splice(s.running.indexOf(entry), 1);
    const { command, child, output } = entry;
    if (child.exitCode !== null) {
      problems.push(
        `line ${command.line}: \`${command.text}\` stopped by itself with ${child.exitCode}:\n${tail(output())}`,
      );
      continue;
    }
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
      child.on('close', (code, signal) => done({ code, signal })),
    );
    process.kill(-child.pid!, 'SIGINT');
    const end = await Promise.race([
      exited,
      new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 120_000)),
    ]);
    const what = `line ${command.line}: \`${command.text}\``;
    if (end === 'timeout') {
      process.kill(-child.pid!, 'SIGKILL');
      problems.push(`${what} did not stop within 120 s of Ctrl-C:\n${tail(output())}\n${logTails(s.dir)}`);
      continue;
    }
    if (!(end.code === 0 || end.code === 130 || end.signal === 'SIGINT')) {
      problems.push(`${what} ended with ${end.code ?? end.signal} on Ctrl-C:\n${tail(output())}`);
    }
    await new Promise((r) => setTimeout(r, 2_000)); // proves absence: the group's processes had 2 s to end
    if (groupAlive(child.pid!)) {
      process.kill(-child.pid!, 'SIGKILL');
      problems.push(`${what} left processes running 2 s after Ctrl-C`);
    }
  }
  return problems;
}

const tail = (text: string) => text.split('\n').slice(-40).join('\n');

/** The end of every log the sandbox's programs wrote under .zonectl/, for a failure's message. */
function logTails(dir: string): string {
  const root = join(dir, '.zonectl');
  if (!existsSync(root)) return '';
  return readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.log'))
    .map((f) => `--- .zonectl/${f} (end) ---\n${tail(readFileSync(join(root, f), 'utf8'))}`)
    .join('\n');
}

/**
 * Declares the tests of these documents' examples, one `describe` per document. The documents
 * run side by side (each has its own sandbox, ports and HOME); a document's blocks run one after
 * the other, in its order.
 */
export function describeDocExamples(files: readonly string[]): void {
  afterAll(async () => {
    for (const s of sandboxes) {
      await interrupt(s);
      rmSync(dirname(s.dir), { recursive: true, force: true });
    }
  });

  for (const file of files) {
    describe.concurrent(file, () => {
      let sandbox: Sandbox | undefined;
      const sandboxOf = () => {
        sandbox ??= makeSandbox();
        return sandbox;
      };

      for (const block of docBlocks(ROOT, file)) {
        const name = `${file}:${block.line} (${block.commands.length} command${block.commands.length === 1 ? '' : 's'})`;
        if (block.skippedBecause) {
          it.sequential
            .skip(`${name}: ${block.skippedBecause}`, () => {});
          continue;
        }
        it.sequential(`${name} runs as written`, async () => {
          const s = sandboxOf();
          for (const command of block.commands) {
            // Each command that runs until Ctrl-C has a terminal of its own; starting the same
            // program again (another `local up`, `npm start` after `npm start`) stops it first.
            const same = await interrupt(s, (running) => programOf(running.text) === programOf(command.text));
            expect(same, 'the same program, running until Ctrl-C before it').toEqual([]);
            if (command.untilInterrupted) {
              await start(s, command);
              continue;
            }
            const { code, output } = await run(s, command);
            expect(code, `${file}:${command.line}: \`${command.text}\`\n${tail(output)}`).toBe(0);
          }
        }, 900_000);
      }

      it.sequential(`${file}: what runs until Ctrl-C stops cleanly when interrupted`, async () => {
        if (!sandbox) return;
        expect(await interrupt(sandbox)).toEqual([]);
      }, 300_000);
    });
  }
}
