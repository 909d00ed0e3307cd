/**
 * `npm run chaos -- --abuse`: what an attacker or a broken device sends the local cloud, and the
 * security matrix on MQTT. The cloud runs as `zonectl local up` in a child process on a copy of
 * the deployed stack; every input is sent to it and its outcome classified:
 *
 * - clear error: refused the way AWS documents (a closed connection or a refused CONNECT with
 *   the broker's log line naming the reason, an HTTP 4xx with an AWS error code);
 * - served: a legitimate answer where AWS gives one (500 connections, a client id taken over);
 * - unclear: an answer that is neither (an HTTP 500, a refusal without its reason);
 * - crash: the cloud process died; hang: no answer within the case's bound, or the cloud's API
 *   stopped answering afterwards;
 * - allowed: a security case that got through.
 *
 * After every input the cloud must still answer; after all of them the registry, a shadow and a
 * device's QoS 1 publish must still work. Exits 1 on any crash, hang, unclear answer or allowed
 * security case.
 *
 * Follows: AWS IoT Core Developer Guide, "AWS IoT differences from MQTT specifications", "MQTT
 * topics", "AWS IoT Core policy actions", "X.509 client certificates"; AWS General Reference,
 * "AWS IoT Core endpoints and quotas" (128 KB payload, 256-byte topics, 7 slashes, 8 KB shadow
 * documents, 6 levels of shadow nesting; connect requests are limited per client id and per
 * account, not per certificate); Amazon Timestream Developer Guide, "Query language reference".
 *
 * LIMITATIONS: one run of each input, on localhost; the cloud's memory is not measured; the
 * 500 connections are opened 50 at a time; the local registry has no RegisterCertificate, so
 * the expired certificate is refused unregistered (the broker's tests register one).
 */
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import {
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CreateKeysAndCertificateCommand,
  CreatePolicyCommand,
  CreateTopicRuleCommand,
  DeleteTopicRuleCommand,
  DescribeThingCommand,
  IoTClient,
  ListThingsCommand,
  RegisterCertificateCommand,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import {
  GetThingShadowCommand,
  IoTDataPlaneClient,
  UpdateThingShadowCommand,
} from '@aws-sdk/client-iot-data-plane';
import { QueryCommand, TimestreamQueryClient } from '@aws-sdk/client-timestream-query';
import {
  BUNDLE_FILE,
  COMMAND_SHADOW_NAME,
  localClientConfig,
  STACK_OUTPUT,
  shadowTopicPrefix,
} from '../../contracts';

import { type DeviceBundle, loadBundle } from '../../device/bundle';
import { createCaService } from '../../local/ca';
import { silentLogger } from '../../local/common/log';
import { signClientCertificate, signExpiredCertificate } from './certs';
import { type ChildCloud, startChildCloud } from './child-cloud';
import {
  captureClientHello,
  type Identity,
  publishPacket,
  RawMqtt,
  rawTcp,
  remainingLength,
  subscribePacket,
} from './raw-mqtt';
import { deployTemplate } from './world';

export type Outcome = 'clear error' | 'served' | 'unclear' | 'crash' | 'hang' | 'allowed';

export interface CaseResult {
  readonly group: 'input' | 'security';
  readonly name: string;
  readonly outcome: Outcome;
  readonly detail: string;
  readonly ms: number;
}

export interface AbuseReport {
  readonly results: readonly CaseResult[];
  /** What the final checks found; empty when the cloud answered and its state was intact. */
  readonly afterwards: readonly string[];
}

/** What a case saw, before the runner checks the log and the cloud's health. */
interface Verdict {
  readonly kind: 'refused' | 'served' | 'allowed' | 'unclear';
  readonly detail: string;
  /** A refusal counts as a clear error only if the cloud logged a line with this (MQTT cases). */
  readonly log?: string;
}

const SENSOR_A = 'hq-lobby-climate';
const SENSOR_B = 'hq-lobby-hvac';
const ABUSE_POLICY = 'zonectl-abuse-client';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface World {
  readonly root: string;
  readonly stateDir: string;
  readonly a: DeviceBundle;
  readonly b: DeviceBundle;
  readonly database: string;
  readonly table: string;
  readonly devicePolicy: string;
}

let template: Promise<Omit<World, 'root' | 'stateDir'> & { readonly cache: string }> | undefined;

/** Deploys the project's stack once per process (chaos/world.ts) and copies its stopped state. */
async function prepareWorld(repoRoot: string): Promise<World> {
  template ??= (async () => {
    const { stateDir, deployed } = await deployTemplate(repoRoot, join(repoRoot, 'building.json'));
    return {
      cache: stateDir,
      a: loadBundle(join(deployed.devicesDir, SENSOR_A, BUNDLE_FILE)),
      b: loadBundle(join(deployed.devicesDir, SENSOR_B, BUNDLE_FILE)),
      database: String(deployed.outputs[STACK_OUTPUT.timestreamDatabase] ?? ''),
      table: String(deployed.outputs[STACK_OUTPUT.timestreamTable] ?? ''),
      devicePolicy: String(deployed.outputs[STACK_OUTPUT.devicePolicyName] ?? ''),
    };
  })();
  const t = await template;
  const root = mkdtempSync(join(tmpdir(), 'zonectl-abuse-'));
  const stateDir = join(root, 'state');
  cpSync(t.cache, stateDir, { recursive: true });
  return { ...t, root, stateDir };
}

const idOf = (b: DeviceBundle): Identity => ({ certPem: b.certificatePem, keyPem: b.privateKeyPem });

/** The cases, in the order they run; each gets the running cloud and what setup made. */
interface Ctx {
  readonly cloud: ChildCloud;
  readonly world: World;
  readonly iot: IoTClient;
  readonly data: IoTDataPlaneClient;
  readonly query: TimestreamQueryClient;
  readonly caPem: string;
  readonly abuser: Identity;
  readonly revoked: Identity;
  readonly inactive: Identity;
  readonly foreign: Identity;
  readonly unregistered: Identity;
  readonly expired: Identity & { readonly registered: string };
}

interface Case {
  readonly group: 'input' | 'security';
  readonly name: string;
  /** How long the case may take before it counts as a hang. */
  readonly boundMs: number;
  run(ctx: Ctx): Promise<Verdict>;
}

/** Connects with an identity and client id: refused unless CONNACK 0 arrives. */
async function tryConnect(ctx: Ctx, id: Identity, clientId: string, log: string): Promise<Verdict> {
  const c = RawMqtt.open(ctx.cloud.endpoints.mqttPort, ctx.caPem, id);
  try {
    const code = await c.connect(clientId);
    if (code === 0) return { kind: 'allowed', detail: 'CONNACK 0 (accepted)' };
    return {
      kind: 'refused',
      detail: code === undefined ? 'connection closed, no CONNACK' : `CONNACK ${code}`,
      log,
    };
  } finally {
    c.end();
  }
}

/** Connects (must be accepted), sends one packet, and expects the broker to close the connection. */
async function sendAndExpectClose(
  ctx: Ctx,
  id: Identity,
  clientId: string,
  bytes: Buffer,
  ackType: number,
  log: string,
): Promise<Verdict> {
  const c = RawMqtt.open(ctx.cloud.endpoints.mqttPort, ctx.caPem, id);
  try {
    const code = await c.connect(clientId);
    if (code !== 0) return { kind: 'unclear', detail: `setup: CONNACK ${String(code)} for ${clientId}` };
    c.send(bytes);
    const ack = await c.waitFor(ackType, 5_000);
    if (ack && !(ackType === 9 && ack.body[2] === 0x80)) {
      return { kind: 'allowed', detail: `acknowledged (packet type ${ackType})` };
    }
    const closed = await c.waitClosed(5_000);
    if (ack) return { kind: 'refused', detail: 'SUBACK 0x80 (failure)', log };
    return closed
      ? { kind: 'refused', detail: 'connection closed, no acknowledgement', log }
      : { kind: 'unclear', detail: 'neither acknowledged nor closed within 5 s' };
  } finally {
    c.end();
  }
}

/** An AWS SDK call that must fail with a 4xx and an error code; a 2xx is `onSuccess`. */
async function expectAwsError(
  call: () => Promise<unknown>,
  onSuccess: Verdict['kind'] = 'allowed',
): Promise<Verdict> {
  try {
    await call();
    return { kind: onSuccess, detail: 'answered 200' };
  } catch (err) {
    const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
    const status = e.$metadata?.httpStatusCode ?? 0;
    const detail = `${status} ${e.name ?? '?'}: ${(e.message ?? '').slice(0, 120)}`;
    return { kind: status >= 400 && status < 500 && e.name ? 'refused' : 'unclear', detail };
  }
}

const nested = (depth: number, leaf: unknown): unknown => {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = { n: v };
  return v;
};

function buildCases(): Case[] {
  const cases: Case[] = [];
  const input = (name: string, boundMs: number, run: Case['run']) =>
    cases.push({ group: 'input', name, boundMs, run });
  const security = (name: string, boundMs: number, run: Case['run']) =>
    cases.push({ group: 'security', name, boundMs, run });
  const abuse = 'abuse-client';

  // --- The security matrix on MQTT ---
  security('no client certificate', 15_000, (ctx) => tryConnect(ctx, {}, 'anyone', 'no client certificate'));
  security('certificate of a foreign CA', 15_000, (ctx) =>
    tryConnect(ctx, ctx.foreign, SENSOR_A, 'not signed by the local CA'),
  );
  security('revoked certificate', 15_000, (ctx) => tryConnect(ctx, ctx.revoked, SENSOR_A, 'REVOKED'));
  security('inactive certificate', 15_000, (ctx) => tryConnect(ctx, ctx.inactive, SENSOR_A, 'INACTIVE'));
  security('signed by the local CA, never registered', 15_000, (ctx) =>
    tryConnect(ctx, ctx.unregistered, SENSOR_A, 'not registered'),
  );
  security('expired certificate', 15_000, (ctx) =>
    tryConnect(ctx, ctx.expired, SENSOR_A, 'CERT_HAS_EXPIRED'),
  );
  security('wrong client id', 15_000, (ctx) =>
    tryConnect(ctx, idOf(ctx.world.a), 'someone-else', 'denied iot:Connect'),
  );
  security("publish on another thing's telemetry topic", 15_000, (ctx) =>
    sendAndExpectClose(
      ctx,
      idOf(ctx.world.a),
      SENSOR_A,
      publishPacket(ctx.world.b.topics.telemetry, '{"t":1}'),
      4,
      'denied iot:Publish',
    ),
  );
  security("subscribe to another thing's shadow", 15_000, (ctx) =>
    sendAndExpectClose(
      ctx,
      idOf(ctx.world.a),
      SENSOR_A,
      subscribePacket(`${shadowTopicPrefix(SENSOR_B, COMMAND_SHADOW_NAME)}/update/accepted`),
      9,
      'denied iot:Subscribe',
    ),
  );
  security("ask for another thing's shadow", 15_000, (ctx) =>
    sendAndExpectClose(
      ctx,
      idOf(ctx.world.a),
      SENSOR_A,
      publishPacket(`${shadowTopicPrefix(SENSOR_B, COMMAND_SHADOW_NAME)}/get`, '{}'),
      4,
      'denied iot:Publish',
    ),
  );
  security("receive another thing's readings", 20_000, async (ctx) => {
    // The abuse client may subscribe to anything but receive only abuse/*.
    const spy = RawMqtt.open(ctx.cloud.endpoints.mqttPort, ctx.caPem, ctx.abuser);
    const sensor = RawMqtt.open(ctx.cloud.endpoints.mqttPort, ctx.caPem, idOf(ctx.world.a));
    try {
      if ((await spy.connect(`${abuse}-spy`)) !== 0) return { kind: 'unclear', detail: 'setup: spy refused' };
      spy.send(subscribePacket('dt/#'));
      await spy.waitFor(9, 5_000);
      if ((await sensor.connect(SENSOR_A)) !== 0) return { kind: 'unclear', detail: 'setup: sensor refused' };
      sensor.send(publishPacket(ctx.world.a.topics.telemetry, '{"spy":1}', 1));
      await sensor.waitFor(4, 5_000);
      await sleep(1_000);
      return spy.packets.some((p) => p.type === 3)
        ? { kind: 'allowed', detail: 'the reading was delivered' }
        : { kind: 'refused', detail: 'delivery dropped', log: 'denied iot:Receive' };
    } finally {
      spy.end();
      sensor.end();
    }
  });
  for (const topic of ['abuse/+/x', 'abuse/#']) {
    security(`publish on a topic with a literal ${topic.includes('+') ? '+' : '#'}`, 15_000, (ctx) =>
      sendAndExpectClose(ctx, ctx.abuser, abuse, publishPacket(topic, 'x'), 4, `is not allowed in PUBLISH`),
    );
  }
  const timestream = (name: string, sql: (db: string, table: string) => string) =>
    security(`Timestream query: ${name}`, 30_000, (ctx) =>
      expectAwsError(() =>
        ctx.query.send(new QueryCommand({ QueryString: sql(ctx.world.database, ctx.world.table) })),
      ),
    );
  timestream("read_csv('/etc/passwd')", () => "SELECT * FROM read_csv('/etc/passwd')");
  timestream("read_text('/etc/hostname')", () => "SELECT * FROM read_text('/etc/hostname')");
  timestream(
    'COPY ... TO',
    (db, t) => `COPY (SELECT * FROM "${db}"."${t}") TO '/tmp/zonectl-abuse-copy.csv'`,
  );
  timestream('ATTACH', () => "ATTACH '/tmp/zonectl-abuse.duckdb' AS x");
  timestream('INSTALL', () => 'INSTALL httpfs');
  timestream('PRAGMA', () => 'PRAGMA database_list');
  timestream('two statements', (db, t) => `SELECT 1; DELETE FROM "${db}"."${t}"`);

  // --- What a broken or hostile device sends the broker ---
  input('payload over 128 KB', 15_000, (ctx) =>
    sendAndExpectClose(
      ctx,
      ctx.abuser,
      abuse,
      publishPacket('abuse/big', Buffer.alloc(128 * 1024 + 1, 0x61)),
      4,
      'the limit is 131072',
    ),
  );
  input('topic over 256 bytes', 15_000, (ctx) =>
    sendAndExpectClose(
      ctx,
      ctx.abuser,
      abuse,
      publishPacket(`abuse/${'x'.repeat(300)}`, 'x'),
      4,
      'the limit is 256',
    ),
  );
  input('topic with more than 7 slashes', 15_000, (ctx) =>
    sendAndExpectClose(
      ctx,
      ctx.abuser,
      abuse,
      publishPacket('abuse/a/b/c/d/e/f/g/h', 'x'),
      4,
      'forward slashes',
    ),
  );
  input('QoS 2 publish', 15_000, (ctx) =>
    sendAndExpectClose(
      ctx,
      ctx.abuser,
      abuse,
      publishPacket('abuse/q2', 'x', 2),
      5,
      'QoS 2 is not supported',
    ),
  );
  input('client id taken over by a second connection', 15_000, async (ctx) => {
    const first = RawMqtt.open(ctx.cloud.endpoints.mqttPort, ctx.caPem, ctx.abuser);
    const second = RawMqtt.open(ctx.cloud.endpoints.mqttPort, ctx.caPem, ctx.abuser);
    try {
      if ((await first.connect(`${abuse}-twin`)) !== 0)
        return { kind: 'unclear', detail: 'setup: first refused' };
      if ((await second.connect(`${abuse}-twin`)) !== 0) return { kind: 'unclear', detail: 'second refused' };
      const firstClosed = await first.waitClosed(5_000);
      await sleep(300);
      return firstClosed && !second.closed
        ? { kind: 'served', detail: 'the older connection was closed, the new one kept (as AWS does)' }
        : { kind: 'unclear', detail: `older closed: ${firstClosed}, newer closed: ${second.closed}` };
    } finally {
      first.end();
      second.end();
    }
  });
  input('500 connections from one certificate', 90_000, async (ctx) => {
    const open: RawMqtt[] = [];
    try {
      const codes: Array<number | undefined> = [];
      for (let batch = 0; batch < 10; batch++) {
        const group = Array.from({ length: 50 }, () =>
          RawMqtt.open(ctx.cloud.endpoints.mqttPort, ctx.caPem, ctx.abuser),
        );
        open.push(...group);
        codes.push(
          ...(await Promise.all(group.map((c, i) => c.connect(`${abuse}-${batch * 50 + i}`, 20_000)))),
        );
      }
      const accepted = codes.filter((c) => c === 0).length;
      const t0 = Date.now();
      await ctx.iot.send(new ListThingsCommand({ maxResults: 1 }));
      const probe = RawMqtt.open(ctx.cloud.endpoints.mqttPort, ctx.caPem, ctx.abuser);
      open.push(probe);
      const probeCode = await probe.connect(`${abuse}-probe`);
      const ms = Date.now() - t0;
      return accepted === 500 && probeCode === 0
        ? {
            kind: 'served',
            detail: `500 accepted; with them open, an API call and a 501st CONNECT took ${ms} ms`,
          }
        : { kind: 'unclear', detail: `${accepted} of 500 accepted, probe CONNACK ${String(probeCode)}` };
    } finally {
      for (const c of open) c.end();
    }
  });
  input('garbage instead of a TLS ClientHello', 15_000, async (ctx) => {
    const r = await rawTcp(
      ctx.cloud.endpoints.mqttPort,
      Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'),
      10_000,
    );
    return r.closed
      ? { kind: 'refused', detail: 'connection closed', log: 'TLS handshake from' }
      : { kind: 'unclear', detail: 'still open after 10 s' };
  });
  input('TLS handshake abandoned after the ClientHello', 30_000, async (ctx) => {
    const r = await rawTcp(ctx.cloud.endpoints.mqttPort, await captureClientHello(), 25_000);
    return r.closed
      ? {
          kind: 'refused',
          detail: 'connection closed by the handshake timeout',
          log: 'TLS handshake timeout',
        }
      : { kind: 'unclear', detail: 'still open after 25 s' };
  });
  input('garbage instead of an MQTT CONNECT', 15_000, async (ctx) => {
    const c = RawMqtt.open(ctx.cloud.endpoints.mqttPort, ctx.caPem, ctx.abuser);
    try {
      c.send(Buffer.from([0xf0, 0x05, 0x01, 0x02, 0x03, 0x04, 0x05, 0x00, 0xff]));
      return (await c.waitClosed(10_000))
        ? { kind: 'refused', detail: 'connection closed', log: 'before CONNECT completed' }
        : { kind: 'unclear', detail: 'still open after 10 s' };
    } finally {
      c.end();
    }
  });
  input('CONNECT announcing 10 MB', 15_000, async (ctx) => {
    const c = RawMqtt.open(ctx.cloud.endpoints.mqttPort, ctx.caPem, ctx.abuser);
    try {
      c.send(
        Buffer.concat([
          Buffer.from([0x10]),
          remainingLength(10 * 1024 * 1024),
          Buffer.alloc(300 * 1024, 0x61),
        ]),
      );
      return (await c.waitClosed(10_000))
        ? { kind: 'refused', detail: 'connection closed', log: 'before its CONNECT was handled' }
        : { kind: 'unclear', detail: 'still open after 10 s' };
    } finally {
      c.end();
    }
  });
  input('TLS connection that never sends CONNECT', 30_000, async (ctx) => {
    const c = RawMqtt.open(ctx.cloud.endpoints.mqttPort, ctx.caPem, ctx.abuser);
    try {
      return (await c.waitClosed(25_000))
        ? {
            kind: 'refused',
            detail: 'connection closed by the connect timeout',
            log: 'connect did not arrive in time',
          }
        : { kind: 'unclear', detail: 'still open after 25 s' };
    } finally {
      c.end();
    }
  });

  // --- The AWS API gateway ---
  const apiPort = (ctx: Ctx) => Number(new URL(ctx.cloud.endpoints.apiEndpoint).port);
  input('HTTP: garbage bytes', 15_000, async (ctx) => {
    const r = await rawTcp(
      apiPort(ctx),
      Buffer.from([0x16, 0x03, 0x01, 0x00, 0xff, 0x0d, 0x0a, 0x0d, 0x0a]),
      10_000,
    );
    return /^HTTP\/1.1 400/.test(r.reply)
      ? { kind: 'refused', detail: '400 Bad Request' }
      : { kind: 'unclear', detail: `answered ${JSON.stringify(r.reply.slice(0, 40))}` };
  });
  input('HTTP: 20 MB body', 30_000, async (ctx) => {
    const head = `POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Target: AmazonSQS.ListQueues\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: ${20 * 1024 * 1024}\r\n\r\n`;
    const r = await rawTcp(
      apiPort(ctx),
      Buffer.concat([Buffer.from(head), Buffer.alloc(20 * 1024 * 1024, 0x61)]),
      20_000,
      (reply) => reply.includes('\r\n\r\n'),
    );
    return /^HTTP\/1.1 413/.test(r.reply) && r.reply.includes('RequestEntityTooLarge')
      ? { kind: 'refused', detail: '413 RequestEntityTooLargeException' }
      : { kind: 'unclear', detail: `answered ${JSON.stringify(r.reply.slice(0, 40))}` };
  });
  input('HTTP: headers sent one byte every 200 ms', 45_000, async (ctx) => {
    const head = `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n${'X-Pad: a\r\n'.repeat(1000)}\r\n`;
    const r = await new Promise<{ reply: string; closed: boolean }>((resolve) => {
      let reply = '';
      let i = 0;
      const socket = netConnect(apiPort(ctx), '127.0.0.1');
      const timer = setInterval(() => {
        if (!socket.destroyed && i < head.length) socket.write(head[i++] ?? '');
      }, 200);
      const stop = setTimeout(() => finish(false), 40_000);
      const finish = (closed: boolean) => {
        clearInterval(timer);
        clearTimeout(stop);
        socket.destroy();
        resolve({ reply, closed });
      };
      socket.on('data', (d) => {
        reply += d.toString();
      });
      socket.on('error', () => finish(true));
      socket.on('close', () => finish(true));
    });
    return r.closed && /^HTTP\/1.1 408/.test(r.reply)
      ? { kind: 'refused', detail: '408 Request Timeout, connection closed' }
      : { kind: 'unclear', detail: `closed: ${r.closed}, answered ${JSON.stringify(r.reply.slice(0, 40))}` };
  });

  // --- Device Shadow and the rules engine ---
  const shadowUpdate = (ctx: Ctx, doc: string) =>
    ctx.data.send(
      new UpdateThingShadowCommand({
        thingName: SENSOR_A,
        shadowName: COMMAND_SHADOW_NAME,
        payload: Buffer.from(doc),
      }),
    );
  input('shadow document nested 10 levels', 15_000, (ctx) =>
    expectAwsError(() => shadowUpdate(ctx, JSON.stringify({ state: { desired: nested(10, 1) } })), 'unclear'),
  );
  input('shadow document nested 60,000 levels', 15_000, (ctx) =>
    expectAwsError(
      () => shadowUpdate(ctx, `{"state":{"desired":{"a":${'['.repeat(60_000)}${']'.repeat(60_000)}}}}`),
      'unclear',
    ),
  );
  input('shadow document over 8 KB', 15_000, (ctx) =>
    expectAwsError(
      () => shadowUpdate(ctx, JSON.stringify({ state: { desired: { pad: 'x'.repeat(9_000) } } })),
      'unclear',
    ),
  );
  input('shadow document that is not JSON', 15_000, (ctx) =>
    expectAwsError(() => shadowUpdate(ctx, '{"state":'), 'unclear'),
  );
  input('rule SQL nested 50,000 parentheses', 60_000, (ctx) =>
    expectAwsError(
      () =>
        ctx.iot.send(
          new CreateTopicRuleCommand({
            ruleName: 'abuse_deep',
            topicRulePayload: {
              sql: `SELECT ${'('.repeat(50_000)}1${')'.repeat(50_000)} AS x FROM 'abuse/deep'`,
              awsIotSqlVersion: '2016-03-23',
              actions: [],
            },
          }),
        ),
      'unclear',
    ),
  );
  input('rule that republishes onto a topic it reads', 30_000, async (ctx) => {
    const roleArn = `arn:aws:iam::${ctx.cloud.endpoints.accountId}:role/abuse`;
    await ctx.iot.send(
      new CreateTopicRuleCommand({
        ruleName: 'abuse_loop',
        topicRulePayload: {
          sql: "SELECT * FROM 'abuse/loop/#'",
          awsIotSqlVersion: '2016-03-23',
          actions: [{ republish: { topic: 'abuse/loop/again', roleArn } }],
        },
      }),
    );
    const c = RawMqtt.open(ctx.cloud.endpoints.mqttPort, ctx.caPem, ctx.abuser);
    try {
      if ((await c.connect(`${abuse}-loop`)) !== 0) return { kind: 'unclear', detail: 'setup: refused' };
      c.send(publishPacket('abuse/loop/start', '{"n":1}', 1));
      await c.waitFor(4, 5_000);
      await sleep(3_000);
      return { kind: 'refused', detail: 'the loop was stopped', log: 'republish loop stopped' };
    } finally {
      c.end();
      await ctx.iot.send(new DeleteTopicRuleCommand({ ruleName: 'abuse_loop' })).catch(() => {});
    }
  });
  return cases;
}

/** Makes the identities the cases use, through the cloud's own APIs and CA. */
async function makeIdentities(
  cloud: ChildCloud,
  world: World,
  iot: IoTClient,
): Promise<Omit<Ctx, 'cloud' | 'world' | 'iot' | 'data' | 'query'>> {
  const caDir = join(world.stateDir, 'ca');
  const caPem = readFileSync(cloud.endpoints.caFile, 'utf8');
  const created = async (active: boolean) => {
    const c = await iot.send(new CreateKeysAndCertificateCommand({ setAsActive: active }));
    return {
      arn: c.certificateArn ?? '',
      id: c.certificateId ?? '',
      identity: { certPem: c.certificatePem ?? '', keyPem: c.keyPair?.PrivateKey ?? '' },
    };
  };
  const asSensorA = async (c: { arn: string }) => {
    await iot.send(new AttachPolicyCommand({ policyName: world.devicePolicy, target: c.arn }));
    await iot.send(new AttachThingPrincipalCommand({ thingName: SENSOR_A, principal: c.arn }));
  };
  // A client that may connect as abuse-*, subscribe to anything, receive and publish only abuse/*.
  const region = cloud.endpoints.region;
  const account = cloud.endpoints.accountId;
  const arn = (r: string) => `arn:aws:iot:${region}:${account}:${r}`;
  await iot.send(
    new CreatePolicyCommand({
      policyName: ABUSE_POLICY,
      policyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: 'iot:Connect', Resource: arn('client/abuse-*') },
          { Effect: 'Allow', Action: 'iot:Subscribe', Resource: arn('topicfilter/*') },
          { Effect: 'Allow', Action: ['iot:Publish', 'iot:Receive'], Resource: arn('topic/abuse/*') },
        ],
      }),
    }),
  );
  const abuser = await created(true);
  await iot.send(new AttachPolicyCommand({ policyName: ABUSE_POLICY, target: abuser.arn }));
  const revoked = await created(true);
  await asSensorA(revoked);
  await iot.send(new UpdateCertificateCommand({ certificateId: revoked.id, newStatus: 'REVOKED' }));
  const inactive = await created(false);
  await asSensorA(inactive);
  const foreignCa = await createCaService({ dir: join(world.root, 'foreign-ca'), logger: silentLogger });
  const foreign = await foreignCa.createKeysAndCertificate();
  const unregistered = await signClientCertificate(
    caDir,
    SENSOR_A,
    new Date(Date.now() - 60_000),
    new Date(Date.now() + 86_400_000),
  );
  const expired = await signExpiredCertificate(caDir, SENSOR_A);
  // Registered when the registry takes it, so the refusal is the certificate's validity alone.
  let registered = 'not registered';
  try {
    const r = await iot.send(
      new RegisterCertificateCommand({
        certificatePem: expired.certificatePem,
        caCertificatePem: caPem,
        setAsActive: true,
      }),
    );
    if (r.certificateArn) {
      await asSensorA({ arn: r.certificateArn });
      registered = 'registered ACTIVE';
    }
  } catch (err) {
    registered = `RegisterCertificate refused it: ${(err as Error).name}`;
  }
  return {
    caPem,
    abuser: abuser.identity,
    revoked: revoked.identity,
    inactive: inactive.identity,
    foreign: { certPem: foreign.certificatePem, keyPem: foreign.keyPair.PrivateKey },
    unregistered: { certPem: unregistered.certificatePem, keyPem: unregistered.keyPem },
    expired: { certPem: expired.certificatePem, keyPem: expired.keyPem, registered },
  };
}

/** Whether the cloud's API answers within 5 s. */
async function answers(iot: IoTClient): Promise<boolean> {
  try {
    await iot.send(new ListThingsCommand({ maxResults: 1 }), { abortSignal: AbortSignal.timeout(5_000) });
    return true;
  } catch {
    return false;
  }
}

/** Runs every case against one child cloud and checks the cloud afterwards. */
export async function runAbuseSuite(
  repoRoot: string,
  log: (line: string) => void = () => {},
): Promise<AbuseReport> {
  const world = await prepareWorld(repoRoot);
  let cloud = await startChildCloud({ repoRoot, stateDir: world.stateDir });
  const clients = () => {
    const config = { ...localClientConfig(cloud.endpoints), maxAttempts: 1 };
    return {
      iot: new IoTClient(config),
      data: new IoTDataPlaneClient(config),
      query: new TimestreamQueryClient(config),
    };
  };
  let c = clients();
  const results: CaseResult[] = [];
  const afterwards: string[] = [];
  try {
    const ids = await makeIdentities(cloud, world, c.iot);
    if (!ids.expired.registered.startsWith('registered'))
      log(`expired certificate: ${ids.expired.registered}`);
    for (const k of buildCases()) {
      const mark = cloud.output().length;
      const t0 = Date.now();
      let verdict: Verdict | 'timeout';
      try {
        let timer: NodeJS.Timeout | undefined;
        verdict = await Promise.race([
          k.run({ cloud, world, ...c, ...ids }),
          new Promise<'timeout'>((resolve) => {
            timer = setTimeout(() => resolve('timeout'), k.boundMs);
          }),
        ]);
        clearTimeout(timer);
      } catch (err) {
        verdict = { kind: 'unclear', detail: `the case failed: ${(err as Error).message.split('\n')[0]}` };
      }
      const ms = Date.now() - t0;
      let outcome: Outcome;
      let detail: string;
      if (!cloud.alive()) {
        outcome = 'crash';
        detail = `the cloud exited: ${cloud.output().slice(mark).split('\n').slice(-5).join(' | ')}`;
      } else if (verdict === 'timeout') {
        outcome = 'hang';
        detail = `no answer within ${k.boundMs} ms`;
      } else if (!(await answers(c.iot))) {
        outcome = 'hang';
        detail = `${verdict.detail}; then the API did not answer within 5 s`;
      } else if (verdict.kind === 'refused') {
        const logged = verdict.log === undefined || cloud.output().slice(mark).includes(verdict.log);
        outcome = logged ? 'clear error' : 'unclear';
        detail = logged ? verdict.detail : `${verdict.detail}, but no log line with "${verdict.log}"`;
      } else {
        outcome = verdict.kind;
        detail = verdict.detail;
      }
      results.push({ group: k.group, name: k.name, outcome, detail, ms });
      log(`${k.group.padEnd(8)} ${outcome.padEnd(11)} ${k.name}: ${detail} (${ms} ms)`);
      if (outcome === 'crash') {
        // The rest still run, on a restarted cloud.
        cloud = await startChildCloud({ repoRoot, stateDir: world.stateDir });
        c = clients();
      }
    }
    // The cloud still answers and its state is intact.
    const thing = await c.iot.send(new DescribeThingCommand({ thingName: SENSOR_A })).catch((e: Error) => e);
    if (thing instanceof Error) afterwards.push(`DescribeThing ${SENSOR_A} failed: ${thing.message}`);
    const things = await c.iot.send(new ListThingsCommand({})).catch((e: Error) => e);
    if (things instanceof Error) afterwards.push(`ListThings failed: ${things.message}`);
    else if (!things.things?.some((t) => t.thingName === SENSOR_B))
      afterwards.push(`ListThings lost ${SENSOR_B}`);
    const shadow = await c.data
      .send(new GetThingShadowCommand({ thingName: SENSOR_A, shadowName: COMMAND_SHADOW_NAME }))
      .catch((e: Error) => e);
    if (shadow instanceof Error && shadow.name !== 'ResourceNotFoundException') {
      afterwards.push(`GetThingShadow failed: ${shadow.name}: ${shadow.message}`);
    }
    const sensor = RawMqtt.open(cloud.endpoints.mqttPort, ids.caPem, idOf(world.a));
    try {
      const code = await sensor.connect(SENSOR_A);
      if (code !== 0) afterwards.push(`${SENSOR_A} could not connect afterwards (CONNACK ${String(code)})`);
      else {
        sensor.send(publishPacket(world.a.topics.telemetry, JSON.stringify({ after: true }), 1));
        if (!(await sensor.waitFor(4, 5_000)))
          afterwards.push(`${SENSOR_A}'s QoS 1 publish got no PUBACK afterwards`);
      }
    } finally {
      sensor.end();
    }
    if (!cloud.alive()) afterwards.push('the cloud exited');
    return { results, afterwards };
  } finally {
    await cloud.stop('SIGTERM');
    if (process.env.ZONECTL_CHAOS_KEEP) console.error(`kept ${world.root}`);
    else rmSync(world.root, { recursive: true, force: true });
  }
}

/** The summary table: one row per figure. */
export function abuseTable(report: AbuseReport): string[][] {
  const count = (group: CaseResult['group'], outcome?: Outcome) =>
    report.results.filter((r) => r.group === group && (outcome === undefined || r.outcome === outcome))
      .length;
  const all = (outcome: Outcome) => report.results.filter((r) => r.outcome === outcome).length;
  return [
    ['figure', 'value'],
    ['inputs tried', String(count('input'))],
    ['clear errors', String(count('input', 'clear error'))],
    ['served as AWS serves them', String(count('input', 'served'))],
    ['unclear answers', String(all('unclear'))],
    ['crashes', String(all('crash'))],
    ['hangs', String(all('hang'))],
    ['security cases tried', String(count('security'))],
    ['security cases refused', String(count('security', 'clear error'))],
    ['security cases allowed', String(count('security', 'allowed'))],
    [
      'cloud intact afterwards',
      report.afterwards.length === 0 ? 'yes' : `no: ${report.afterwards.join('; ')}`,
    ],
  ];
}

/** True when the report shows no crash, hang, unclear answer, allowed case or damage. */
export const abusePassed = (report: AbuseReport): boolean =>
  report.afterwards.length === 0 &&
  report.results.every((r) => r.outcome === 'clear error' || r.outcome === 'served');

/** `npm run chaos -- --abuse`: runs the suite, prints each case and the table; exit 1 on any failure. */
export async function abuseMain(repoRoot: string): Promise<void> {
  console.log(
    `${new Date().toISOString()}  ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}\n`,
  );
  const report = await runAbuseSuite(repoRoot, (line) => console.log(line));
  const rows = abuseTable(report);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  console.log(`\n${line(rows[0]!)}`);
  console.log(`| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`);
  for (const r of rows.slice(1)) console.log(line(r));
  process.exit(abusePassed(report) ? 0 : 1);
}
