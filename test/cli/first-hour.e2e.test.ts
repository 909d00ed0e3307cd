/**
 * The first hour with a real device, as the commands print it: `npx zonectl local up` in one
 * terminal; `npx zonectl onboard <thing>` prints the deploy step, which is run exactly as
 * printed; the printed `--finish --local` step writes the bundle; the printed `device pack` step
 * writes the folder for the device; that folder, copied to a directory outside the repository,
 * runs with plain `node` (the command `device pack` prints) against the local cloud, and its
 * readings are read back from the store.
 *
 * Everything runs in a scratch copy of the repository's top level (symbolic links to its
 * folders and files), so `npx cdk synth` writes its cdk.out and onboarding its keys there and
 * never into the checkout. Ports are ephemeral (`local up --mqtt-port 0 --api-port 0`).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { QueryCommand, TimestreamQueryClient } from '@aws-sdk/client-timestream-query';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  BUNDLE_FILE,
  buildingStackName,
  ENDPOINTS_FILE,
  localClientConfig,
  readLocalEndpoints,
  STACK_OUTPUT,
  STACK_OUTPUTS_FILE,
} from '../../contracts';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const THING = 'hq-lobby-climate';
/** What the scratch workspace links to: what `npx zonectl` and `npx cdk synth` read. */
const LINKED = [
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'cdk.json',
  'building.json',
  'node_modules',
  'bin',
  'cli',
  'contracts',
  'dashboard',
  'demo',
  'device',
  'lambda',
  'lib',
  'local',
  'provisioning',
  'sim',
];

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

let root: string;
let workspace: string;
let localUp: ChildProcess | undefined;
let agent: ChildProcess | undefined;

/** Runs a command line through the shell, as a user pastes it. */
function shell(line: string, cwd: string, timeout = 240_000): Promise<Run> {
  return new Promise((done) => {
    execFile(
      '/bin/sh',
      ['-c', line],
      { cwd, timeout, env: { ...process.env, CI: 'true' } },
      (err, stdout, stderr) => {
        done({
          code: err ? (typeof err.code === 'number' ? err.code : 1) : 0,
          stdout: String(stdout),
          stderr: String(stderr),
        });
      },
    );
  });
}

/** The commands a message puts in backticks. */
const quoted = (text: string) => [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string);

function stopGroup(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM'): void {
  if (child?.pid && child.exitCode === null) {
    try {
      process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  }
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((done) => {
    if (child.exitCode !== null) done(child.exitCode);
    else child.once('exit', (code) => done(code));
  });

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'first-hour-'));
  workspace = join(root, 'workspace');
  mkdirSync(workspace);
  for (const name of LINKED) symlinkSync(join(REPO_ROOT, name), join(workspace, name));

  localUp = spawn('npx', ['zonectl', 'local', 'up', '--mqtt-port', '0', '--api-port', '0'], {
    cwd: workspace,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  localUp.stdout?.on('data', (d) => {
    output += d;
  });
  localUp.stderr?.on('data', (d) => {
    output += d;
  });
  await vi.waitFor(
    () => {
      expect(localUp?.exitCode, `local up exited: ${output}`).toBeNull();
      expect(output).toContain('ready.');
    },
    { timeout: 90_000, interval: 250 },
  );
}, 120_000);

afterAll(async () => {
  stopGroup(agent, 'SIGKILL');
  if (localUp) {
    stopGroup(localUp, 'SIGINT');
    await Promise.race([exited(localUp), new Promise((r) => setTimeout(r, 15_000))]);
    stopGroup(localUp, 'SIGKILL');
  }
  rmSync(root, { recursive: true, force: true });
}, 30_000);

describe('the first hour with a device, following what zonectl prints', () => {
  let finishStep: string;
  let packStep: string;
  let runCommand: string;
  let packedDir: string;

  it('onboard prints a local deploy step that deploys: cdk synth, then local deploy', async () => {
    const onboard = await shell(`npx zonectl onboard ${THING}`, workspace);
    expect(onboard.code, onboard.stderr).toBe(0);
    const steps = quoted(onboard.stdout);
    const deploy = steps.find((s) => s.includes('zonectl local deploy'));
    expect(deploy).toBe('npx cdk synth && npx zonectl local deploy');
    expect(
      steps.filter((s) => s === 'npx zonectl local up'),
      'local up is named only as what must run',
    ).toHaveLength(1);
    finishStep = steps.find((s) => s.endsWith('--finish --local')) ?? '';
    expect(finishStep).toBe(`npx zonectl onboard ${THING} --finish --local`);

    const deployed = await shell(deploy as string, workspace);
    expect(deployed.code, `${deployed.stdout}\n${deployed.stderr}`).toBe(0);
    expect(deployed.stdout).toMatch(/\d+ resources: .*created/);
  }, 300_000);

  it('the printed --finish --local step writes the bundle and names the pack step', async () => {
    const finished = await shell(finishStep, workspace);
    expect(finished.code, finished.stderr).toBe(0);
    expect(existsSync(join(workspace, '.zonectl', 'devices', THING, BUNDLE_FILE))).toBe(true);
    packStep = finished.stdout.match(/(npx zonectl device pack \S+)/)?.[1] ?? '';
    expect(packStep).toBe(`npx zonectl device pack ${THING}`);
    expect(finished.stdout).toContain(`npx zonectl device run ${THING}`);
  }, 120_000);

  it('the printed pack step writes one folder: the agent, its native library and the bundle', async () => {
    const packed = await shell(packStep, workspace);
    expect(packed.code, packed.stderr).toBe(0);
    runCommand = packed.stdout.match(/^\s+(node zonectl-agent\.mjs .+)$/m)?.[1] ?? '';
    expect(runCommand).toBe('node zonectl-agent.mjs --bundle bundle.json --data-dir ./data');
    const folder = join(workspace, '.zonectl', 'dist', THING);
    expect(readdirSync(folder).sort()).toEqual([
      'README.txt',
      'aws-crt-nodejs.node',
      'bundle.json',
      'zonectl-agent.mjs',
    ]);
    expect(statSync(join(folder, BUNDLE_FILE)).mode & 0o077, 'bundle.json readable by its owner only').toBe(
      0,
    );
    // Nothing is imported from outside the file but Node's own modules.
    const code = readFileSync(join(folder, 'zonectl-agent.mjs'), 'utf8');
    const imported = [...code.matchAll(/(?:^|[;\n])\s*import\s*(?:[^'"]*?from\s*)?["']([^"']+)["']/g)].map(
      (m) => m[1],
    );
    expect(
      imported.filter(
        (m) => !m?.startsWith('node:') && !['crypto', 'fs', 'path', 'url', 'os'].includes(m ?? ''),
      ),
    ).toEqual([]);
    packedDir = join(root, 'device-opt-zonectl');
    cpSync(folder, packedDir, { recursive: true });
  }, 180_000);

  it('runs on the "device": plain node in a folder outside the repository, readings stored', async () => {
    expect(existsSync(join(root, 'node_modules')), 'no node_modules above the device folder').toBe(false);
    const env = { ...process.env };
    delete env.NODE_PATH;
    delete env.NODE_OPTIONS;
    const [program, ...args] = runCommand.split(' ');
    agent = spawn(program === 'node' ? process.execPath : (program as string), args, {
      cwd: packedDir,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    agent.stderr?.on('data', (d) => {
      log += d;
    });
    agent.stdout?.on('data', (d) => {
      log += d;
    });
    const endpoints = readLocalEndpoints(join(workspace, '.zonectl', 'local'));
    expect(existsSync(join(workspace, '.zonectl', 'local', ENDPOINTS_FILE))).toBe(true);
    const outputs = JSON.parse(
      readFileSync(join(workspace, '.zonectl', 'local', STACK_OUTPUTS_FILE), 'utf8'),
    ) as Record<string, Record<string, string>>;
    // The database name is unique per stack (it must not collide with a retained one).
    const database = outputs[buildingStackName('hq')]?.[STACK_OUTPUT.timestreamDatabase];
    expect(database).toMatch(/^zonectl-hq/);
    const query = new TimestreamQueryClient(localClientConfig(endpoints));
    try {
      await vi.waitFor(
        async () => {
          expect(agent?.exitCode, `the agent exited: ${log}`).toBeNull();
          const out = await query.send(
            new QueryCommand({
              QueryString: `SELECT count(*) FROM "${database}"."readings" WHERE thing = '${THING}'`,
            }),
          );
          expect(
            Number(out.Rows?.[0]?.Data?.[0]?.ScalarValue ?? 0),
            `readings of ${THING}; agent log: ${log}`,
          ).toBeGreaterThan(0);
        },
        { timeout: 60_000, interval: 500 },
      );
    } finally {
      query.destroy();
    }
    stopGroup(agent, 'SIGTERM');
    expect(await exited(agent)).toBe(0);
    expect(existsSync(join(packedDir, 'data', 'buffer.jsonl'))).toBe(true);
  }, 120_000);
});
