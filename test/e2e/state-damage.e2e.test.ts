/**
 * Every state file the local cloud writes, damaged in each way a crash, a bad disk or a hand
 * edit damages a file, one at a time: the cloud must either refuse to start with an error that
 * names the file, what is wrong and the fix (never a raw TypeError), skip and quarantine a
 * damaged record of an append-only log and start with everything else, fall back to the file's
 * last-good copy and say so, or (for what it can make again, like the server certificate) make it
 * again and say so. Nothing may change silently.
 *
 * The files are not listed by hand: the test deploys the project's stack, publishes readings,
 * writes a shadow, a secret, a provisioning template and an InfluxDB instance with points,
 * stops the cloud and lists its state dir. A file no row of the matrix covers fails the test, so
 * a state file added later must be added here with the outcome its damage has.
 */
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { CreateProvisioningTemplateCommand } from '@aws-sdk/client-iot';
import { UpdateThingShadowCommand } from '@aws-sdk/client-iot-data-plane';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPublisher } from '../../bench/chaos/ledger';
import { localClientConfig, parseBuildingConfigText, provisioningTemplateBody } from '../../contracts';
import { type LocalCloud, startLocalCloud } from '../../local/cloud';
import { recordingLogger } from '../../local/common/log';
import { BUILDING_CONFIG, SENSOR } from './helpers/assembly';
import { CREDENTIALS, type Pipeline, startPipeline } from './helpers/pipeline';

type Damage =
  | 'truncated'
  | 'garbage'
  | 'null'
  | 'wrong-shape'
  | 'empty'
  | 'bad-record'
  | 'null-line'
  | 'missing';

/**
 * What the cloud does with a damaged file:
 * - refuse: does not start; the error names the file, what is wrong and the fix;
 * - quarantine: starts; the damaged record is skipped, kept in `<file>.quarantine` and reported
 *   with the file's path and line;
 * - last-good: starts from the file's last-good copy, and says so naming the file;
 * - remade: starts, making the file again from what it can be derived from, and says so (or,
 *   for a file the cloud only writes, just writes it again);
 * - start-empty: starts with that store empty (what the next deploy creates again), saying so
 *   and keeping the damaged file aside.
 */
type Outcome = 'refuse' | 'quarantine' | 'last-good' | 'remade' | 'start-empty';

interface Row {
  /** Matches the file's path relative to the state dir. */
  readonly pattern: RegExp;
  readonly what: string;
  readonly outcomes: Partial<Record<Damage, Outcome>>;
  /** Written only past a size (the registry's checkpoint): covered when present. */
  readonly optional?: boolean;
  /** Read by a deploy, not at start: the case deploys the stack after starting. */
  readonly atDeploy?: boolean;
  /** A file made again without a word is fine (it holds nothing the cloud cannot rebuild). */
  readonly quiet?: boolean;
  /** A missing file is the same as an empty one (an InfluxDB bucket without points). */
  readonly quietWhenMissing?: boolean;
}

const JSON_DAMAGE: Damage[] = ['truncated', 'garbage', 'null', 'wrong-shape', 'empty'];
const all = (outcome: Outcome, damages: Damage[] = JSON_DAMAGE): Partial<Record<Damage, Outcome>> =>
  Object.fromEntries(damages.map((d) => [d, outcome]));
const LOG: Partial<Record<Damage, Outcome>> = {
  truncated: 'quarantine',
  garbage: 'quarantine',
  'bad-record': 'quarantine',
  'null-line': 'quarantine',
  empty: 'remade',
  missing: 'remade',
};

/** The matrix: every state file the cloud writes, the damage tried on it, and the outcome. */
const MATRIX: Row[] = [
  // Written at every start from the ports in use.
  {
    pattern: /^endpoints\.json$/,
    what: 'the endpoints the cloud announces',
    outcomes: all('remade', [...JSON_DAMAGE, 'missing']),
    quiet: true,
  },
  {
    pattern: /^stack-outputs\.json$/,
    what: 'the stacks outputs',
    outcomes: all('last-good'),
    atDeploy: true,
  },
  {
    pattern: /^deployer\/[^/]+\.json$/,
    what: 'a deployed stack',
    outcomes: all('last-good'),
    atDeploy: true,
  },
  {
    pattern: /^ca\/ca\.pem$/,
    what: 'the CA certificate',
    outcomes: all('last-good', ['truncated', 'garbage', 'empty', 'missing']),
  },
  {
    pattern: /^ca\/ca\.key\.pem$/,
    what: 'the CA key',
    outcomes: all('last-good', ['truncated', 'garbage', 'empty', 'missing']),
  },
  {
    pattern: /^ca\/server\.pem$/,
    what: 'the server certificate',
    outcomes: all('remade', ['truncated', 'garbage', 'empty', 'missing']),
  },
  {
    pattern: /^ca\/server\.key\.pem$/,
    what: 'the server key',
    outcomes: all('remade', ['truncated', 'garbage', 'empty', 'missing']),
  },
  { pattern: /^iot\/registry\.log$/, what: 'the IoT registry change log', outcomes: LOG },
  {
    pattern: /^iot\/registry\.json$/,
    what: 'the IoT registry checkpoint',
    outcomes: all('last-good'),
    optional: true,
  },
  { pattern: /^broker\/inbound\.journal$/, what: 'the broker journal', outcomes: LOG },
  { pattern: /^broker\/state\.json$/, what: 'the broker sessions', outcomes: all('last-good') },
  { pattern: /^sqs\/queues\.json$/, what: 'the SQS queues', outcomes: all('last-good') },
  { pattern: /^sqs\/mappings\.json$/, what: 'the event source mappings', outcomes: all('last-good') },
  { pattern: /^sqs\/messages\/[^/]+\.jsonl$/, what: 'an SQS message log', outcomes: LOG },
  { pattern: /^lambda\/functions\.json$/, what: 'the deployed functions', outcomes: all('last-good') },
  { pattern: /^lambda\/async-events\.log$/, what: 'the asynchronous invocation queue', outcomes: LOG },
  // Staged copies of the assembly's code: not checked at start (see local/lambda/README.md).
  {
    pattern: /^lambda\/tasks\/[^/]+\/\.staged$/,
    what: 'a staged function marker',
    outcomes: all('remade', ['garbage', 'empty', 'missing']),
    quiet: true,
  },
  {
    pattern: /^lambda\/tasks\/[^/]+\/(?!\.staged$)[^/]+$/,
    what: 'a staged function file',
    outcomes: all('remade', ['truncated', 'garbage', 'empty', 'missing']),
    quiet: true,
  },
  { pattern: /^shadow\/shadows\.log$/, what: 'the device shadows change log', outcomes: LOG },
  {
    pattern: /^shadow\/shadows\.checkpoint\.json$/,
    what: 'the device shadows checkpoint',
    outcomes: all('last-good'),
    optional: true,
  },
  { pattern: /^secretsmanager\/secrets\.json$/, what: 'the secrets', outcomes: all('last-good') },
  { pattern: /^provisioning\/state\.json$/, what: 'the provisioning templates', outcomes: all('last-good') },
  { pattern: /^influxdb\/instances\.json$/, what: 'the InfluxDB instances', outcomes: all('last-good') },
  { pattern: /^influxdb\/[^/]+\/meta\.json$/, what: 'an InfluxDB instance', outcomes: all('last-good') },
  {
    pattern: /^influxdb\/[^/]+\/[^/]+\.lp$/,
    what: 'an InfluxDB bucket',
    outcomes: { ...LOG, 'null-line': undefined },
    quietWhenMissing: true,
  },
  {
    pattern: /^timestream\/timestream\.duckdb$/,
    what: 'the Timestream store',
    outcomes: all('refuse', ['truncated', 'garbage']),
  },
];

/** Files that are copies the cloud keeps for recovery, not state it reads on a normal start. */
const COPIES = /(\.last-good|\.quarantine|\.damaged-[^/]*)$/;

const rowOf = (file: string) => MATRIX.find((r) => r.pattern.test(file));

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

function damage(path: string, how: Damage): void {
  const text = existsSync(path) ? readFileSync(path) : Buffer.alloc(0);
  switch (how) {
    case 'truncated':
      writeFileSync(path, text.subarray(0, Math.max(1, Math.floor(text.length / 2))));
      return;
    case 'garbage':
      writeFileSync(
        path,
        Buffer.from('\u0000\u00ff\u0013garbage \u00fe\u0001 not what was written \u0007', 'latin1'),
      );
      return;
    case 'null':
      writeFileSync(path, 'null');
      return;
    case 'wrong-shape':
      writeFileSync(path, '{"unexpected":[1,2,3]}');
      return;
    case 'empty':
      writeFileSync(path, '');
      return;
    case 'missing':
      rmSync(path);
      return;
    case 'bad-record':
    case 'null-line': {
      const lines = text.toString('utf8').split('\n');
      const at = Math.min(1, lines.length - 1);
      lines.splice(at, 0, how === 'null-line' ? 'null' : '{"broken": tru');
      writeFileSync(path, lines.join('\n'));
      return;
    }
  }
}

interface Observed {
  readonly started: boolean;
  readonly error?: Error;
  readonly lines: string[];
}

let pipeline: Pipeline | undefined;
let pristine = '';
let files: string[] = [];
const root = mkdtempSync(join(tmpdir(), 'zonectl-damage-'));

async function fetchInflux(
  url: string,
  path: string,
  init: { method: string; headers: Record<string, string>; body?: string },
  ca: string,
) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined> }>(
    (resolve, reject) => {
      const req = request(`${url}${path}`, { method: init.method, headers: init.headers, ca }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      });
      req.on('error', reject);
      req.end(init.body);
    },
  );
}

/** Puts something in every store of the cloud, so every state file exists. */
async function populate(p: Pipeline): Promise<void> {
  const cloud = p.cloud;
  const publisher = await startPublisher({
    bundle: p.bundles[SENSOR]!,
    endpoints: cloud.endpoints,
    inFlight: 2,
    firstSeq: 1,
    total: 10,
  });
  await publisher.finished;
  await publisher.stop();
  const { data, iot } = p.clients();
  await data.send(
    new UpdateThingShadowCommand({
      thingName: SENSOR,
      payload: new TextEncoder().encode(JSON.stringify({ state: { reported: { firmware: '1.0.0' } } })),
    }),
  );
  const secrets = new SecretsManagerClient({
    ...localClientConfig(cloud.endpoints),
    credentials: CREDENTIALS,
  });
  await secrets.send(new CreateSecretCommand({ Name: 'damage-test', SecretString: 's3cret' }));
  secrets.destroy();
  const config = parseBuildingConfigText(readFileSync(BUILDING_CONFIG, 'utf8'));
  await iot.send(
    new CreateProvisioningTemplateCommand({
      templateName: 'damage-test',
      templateBody: JSON.stringify(provisioningTemplateBody(config)),
      provisioningRoleArn: 'arn:aws:iam::000000000000:role/damage-test',
      enabled: true,
    }),
  );
  const influx = await cloud.influxdb.createInstance({
    name: 'damage-test',
    username: 'admin',
    password: 'password123',
    organization: 'org',
    bucket: 'readings',
    port: 0,
  });
  const ca = readFileSync(cloud.ca.caFile, 'utf8');
  const basic = `Basic ${Buffer.from('admin:password123').toString('base64')}`;
  const signin = await fetchInflux(
    influx.url,
    '/api/v2/signin',
    { method: 'POST', headers: { Authorization: basic } },
    ca,
  );
  const cookie = String(signin.headers['set-cookie'] ?? '').split(';')[0] ?? '';
  for (let i = 0; i < 3; i++) {
    const w = await fetchInflux(
      influx.url,
      '/api/v2/write?org=org&bucket=readings&precision=s',
      {
        method: 'POST',
        headers: { Cookie: cookie },
        body: `t,zone=a v=${i} ${Math.floor(Date.now() / 1000) - i}`,
      },
      ca,
    );
    expect(w.status).toBe(204);
  }
  await p.stopCloud();
}

async function startDamaged(
  name: string,
  file: string,
  how: Damage,
  afterStart: (cloud: LocalCloud) => Promise<unknown> = async () => {},
): Promise<{ dir: string; observed: Observed }> {
  const dir = join(root, name);
  cpSync(pristine, dir, { recursive: true });
  damage(join(dir, file), how);
  const logger = recordingLogger();
  let cloud: LocalCloud | undefined;
  try {
    cloud = await startLocalCloud({ stateDir: dir, mqttPort: 0, apiPort: 0, logger, drainTimeoutMs: 1000 });
    await afterStart(cloud);
    return { dir, observed: { started: true, lines: logger.lines } };
  } catch (err) {
    return { dir, observed: { started: false, error: err as Error, lines: logger.lines } };
  } finally {
    await cloud?.close();
  }
}

beforeAll(async () => {
  pipeline = await startPipeline();
  await populate(pipeline);
  pristine = join(root, 'pristine');
  cpSync(pipeline.stateDir, pristine, { recursive: true });
  files = listFiles(pristine).filter((f) => !COPIES.test(f));
}, 240_000);

afterAll(async () => {
  await pipeline?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('every state file damaged in every way', () => {
  it('covers every state file the cloud wrote', () => {
    console.log(`state files:\n${files.join('\n')}`);
    const uncovered = files.filter((f) => !rowOf(f));
    expect(uncovered).toEqual([]);
    for (const row of MATRIX.filter((r) => !r.optional)) {
      expect(
        files.some((f) => row.pattern.test(f)),
        `no file for ${row.what}`,
      ).toBe(true);
    }
  });

  const report: string[] = [];
  afterAll(() => console.log(`damage matrix:\n${report.join('\n')}`));
  let n = 0;
  for (const row of MATRIX) {
    for (const [how, expected] of Object.entries(row.outcomes) as Array<[Damage, Outcome | undefined]>) {
      if (!expected) continue;
      it(`${row.what} (${row.pattern.source}), ${how}: ${expected}`, { timeout: 90_000 }, async () => {
        const file = files.find((f) => row.pattern.test(f));
        if (!file && row.optional) return;
        expect(file, `no state file matches ${row.pattern}`).toBeDefined();
        if (!file) return;
        const wasEmpty = readFileSync(join(pristine, file)).length === 0;
        // Truncating an empty file leaves it as it was.
        const want: Outcome = how === 'truncated' && wasEmpty ? 'remade' : expected;
        const { dir, observed } = await startDamaged(`case-${n++}`, file, how, async (cloud) => {
          if (row.atDeploy) await cloud.deploy(pipeline!.assembly.cdkOut);
        });
        const path = join(dir, file);
        const text = observed.error ? `${observed.error.name}: ${observed.error.message}` : '';
        const name = file.split('/').at(-1) ?? file;
        const logged = observed.lines.filter((l) => l.includes(name)).join(' | ');
        let got: string;
        if (!observed.started) got = 'refuse';
        else if (/quarantine/.test(logged)) got = 'quarantine';
        else if (/cannot be used: .*issuing a new one/.test(logged)) got = 'remade';
        else if (/last good copy/.test(logged)) got = 'last-good';
        else if (/Started .* empty/.test(logged)) got = 'start-empty';
        else got = 'remade';
        report.push(`${file} x ${how} -> ${got}: ${(text || logged).slice(0, 300)}`);
        rmSync(dir, { recursive: true, force: true });
        if (!observed.started) {
          expect(observed.error?.name).not.toMatch(/^(TypeError|RangeError|SyntaxError|Error)$/);
          expect(text).not.toMatch(/Cannot read properties/);
          expect(text).toContain(path);
        } else if (
          !(row.quiet || row.quietWhenMissing || (want === 'remade' && (how === 'empty' || wasEmpty)))
        ) {
          // An empty log is a log with nothing in it; a missing one is reported as a loss.
          expect(
            observed.lines.some((l) => l.includes(path)),
            'started without a word about the damaged file',
          ).toBe(true);
        }
        expect(got).toBe(want);
      });
    }
  }
});
