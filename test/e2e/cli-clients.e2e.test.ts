/**
 * Probes with clients that are not ours: `mosquitto_pub` publishing with a device's
 * certificate over mutual TLS, and the AWS CLI reading the result through the local API. Each
 * test is skipped, saying which program is missing, where those are not installed (CI
 * installs them: mosquitto-clients and awscli).
 */
import { execFile, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { STACK_OUTPUT, TELEMETRY_VERSION } from '../../contracts';
import { ACTUATOR, SENSOR } from './helpers/assembly';
import { CREDENTIALS, type Pipeline, printLogsOnFailure, startPipeline } from './helpers/pipeline';

const installed = (program: string) => spawnSync('sh', ['-c', `command -v ${program}`]).status === 0;
const MOSQUITTO_PUB = installed('mosquitto_pub');
const AWS_CLI = installed('aws');
const missing = (...programs: Array<[string, boolean]>) =>
  programs
    .filter(([, ok]) => !ok)
    .map(([name]) => name)
    .join(' and ');

let pipeline: Pipeline | undefined;

beforeAll(async () => {
  if (MOSQUITTO_PUB) pipeline = await startPipeline();
}, 240_000);

printLogsOnFailure(() => pipeline);

afterAll(async () => {
  await pipeline?.close();
});

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(program: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return new Promise((resolve) => {
    execFile(program, args, { env, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

function mosquittoPub(p: Pipeline, thing: string, topic: string, message: string): Promise<Run> {
  const files = p.files(thing);
  return run('mosquitto_pub', [
    '--cafile',
    files.caFile,
    '--cert',
    files.certFile,
    '--key',
    files.keyFile,
    '-h',
    'localhost',
    '-p',
    String(p.cloud.endpoints.mqttPort),
    '-i',
    thing,
    '-t',
    topic,
    '-q',
    '1',
    '-m',
    message,
  ]);
}

/** The AWS CLI with throwaway credentials and no user config. */
function awsCli(p: Pipeline, args: readonly string[]): Promise<Run> {
  const none = join(p.root, 'no-aws-config');
  return run(
    'aws',
    [...args, '--endpoint-url', p.cloud.endpoints.apiEndpoint, '--region', 'us-east-1', '--output', 'json'],
    {
      PATH: process.env.PATH,
      HOME: p.root,
      AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
      AWS_CONFIG_FILE: none,
      AWS_SHARED_CREDENTIALS_FILE: none,
      AWS_PAGER: '',
    },
  );
}

describe('probes with mosquitto_pub and the AWS CLI', () => {
  it('accepts a reading published by mosquitto_pub with the device certificate, readable with `aws timestream-query query`', async (context) => {
    const gap = missing(['mosquitto_pub', MOSQUITTO_PUB], ['aws', AWS_CLI]);
    if (gap) context.skip(`${gap} not installed (apt-get install mosquitto-clients awscli)`);
    const p = pipeline!;
    const ts = Date.now();
    const published = await mosquittoPub(
      p,
      SENSOR,
      p.bundles[SENSOR]!.topics.telemetry,
      JSON.stringify({ v: TELEMETRY_VERSION, readings: [{ ts, seq: 4242, temperature: 22.5 }] }),
    );
    expect(published, published.stderr).toMatchObject({ code: 0 });

    const db = p.outputs[STACK_OUTPUT.timestreamDatabase];
    const table = p.outputs[STACK_OUTPUT.timestreamTable];
    const query = `SELECT thing, zone, seq, temperature FROM "${db}"."${table}" WHERE thing = '${SENSOR}' AND seq = 4242`;
    const rows = await vi.waitFor(
      async () => {
        const out = await awsCli(p, ['timestream-query', 'query', '--query-string', query]);
        if (out.code !== 0) throw new Error(`aws exited ${out.code}: ${out.stderr.trim()}`);
        const result = JSON.parse(out.stdout) as { Rows: Array<{ Data: Array<{ ScalarValue?: string }> }> };
        expect(result.Rows, 'the reading through the AWS CLI').not.toEqual([]);
        return result.Rows;
      },
      { timeout: 40_000, interval: 100 },
    );
    expect(rows.map((r) => r.Data.map((d) => d.ScalarValue))).toEqual([[SENSOR, 'lobby', '4242', '22.5']]);
  }, 90_000);

  it('refuses mosquitto_pub publishing as one thing on another thing’s telemetry topic', async (context) => {
    if (!MOSQUITTO_PUB) context.skip('mosquitto_pub not installed (apt-get install mosquitto-clients)');
    const p = pipeline!;
    const published = await mosquittoPub(
      p,
      SENSOR,
      p.bundles[ACTUATOR]!.topics.telemetry,
      JSON.stringify({ v: TELEMETRY_VERSION, readings: [{ ts: Date.now(), seq: 1, temperature: 30 }] }),
    );
    const denial = await vi.waitFor(
      () => {
        const [line] = p.logLines(
          `denied iot:Publish on`,
          p.bundles[ACTUATOR]!.topics.telemetry,
          `for client '${SENSOR}'`,
        );
        expect(line, 'the broker logs the denial').toBeDefined();
        return line!;
      },
      { timeout: 10_000, interval: 100 },
    );
    expect(denial).toMatch(/client disconnected/);
    expect(published.code, `mosquitto_pub exit code; stderr: ${published.stderr}`).not.toBe(0);
  }, 60_000);
});
