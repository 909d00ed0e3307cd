import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  GetThingShadowCommand,
  IoTDataPlaneClient,
  UpdateThingShadowCommand,
} from '@aws-sdk/client-iot-data-plane';
import { GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  QueryCommand,
  type QueryCommandOutput,
  TimestreamQueryClient,
} from '@aws-sdk/client-timestream-query';
import {
  ACTUATOR_KINDS,
  type ActuatorKind,
  actuatorsOf,
  type BuildingConfig,
  COMMAND_SHADOW_NAME,
  checkCommand,
  type DesiredCommandState,
  describeDeadLetter,
  devicesOf,
  isScheduledOccupied,
  localClientConfig,
  presenceTopic,
  type ReportedCommandState,
  SENSOR_KINDS,
  type SensorKind,
} from '../contracts';
import type { MessageBus } from '../local/broker/types';
import type { AwsRequest, AwsResponse, ServiceRoute } from '../local/gateway/types';
import { latestReadingsQuery, zoneSeriesQuery } from './queries';

/**
 * The dashboard's HTTP side, mounted on the local cloud's gateway under /dashboard/. It reads
 * everything it shows through the AWS APIs of the pipeline, exactly as it would against AWS:
 * readings and charts from Timestream queries, actuator state from the command shadows, the
 * dead-letter queue through SQS. Device presence comes from IoT Core lifecycle events on the
 * message bus. Energy and comfort figures come from the simulation when one runs.
 */

export interface DashboardFigures {
  readonly books?: { published: number; stored: number; deadLettered: number; inFlight: number };
  readonly commandsIssued?: number;
  readonly commandsApplied?: number;
  readonly energy?: { controlledKWh: number; baselineKWh: number };
  readonly comfort?: Record<string, number | null>;
  readonly simulatedTime?: number;
  readonly stored?: number;
}

export interface DashboardOptions {
  readonly config: BuildingConfig;
  readonly apiEndpoint: string;
  readonly region: string;
  readonly bus: MessageBus;
  readonly timestream: { database: string; table: string };
  readonly deadLetterQueueUrl?: string;
  /** Time the readings are taken at: the simulated clock in the demo, else the wall clock. */
  readonly clock?: () => number;
  readonly figures?: () => DashboardFigures;
  /** Hours of history the charts show. */
  readonly chartHours?: number;
}

export interface Dashboard {
  readonly route: ServiceRoute;
  close(): Promise<void>;
}

const PUBLIC_DIR = join(dirname(fileURLToPath(import.meta.url)), 'public');
const requireFromHere = createRequire(import.meta.url);
const UPLOT_DIR = dirname(requireFromHere.resolve('uplot/dist/uPlot.iife.min.js'));
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

export class DashboardInputError extends Error {
  override readonly name = 'DashboardInputError';
}

export async function createDashboard(options: DashboardOptions): Promise<Dashboard> {
  const clientConfig = localClientConfig(options);
  const query = new TimestreamQueryClient(clientConfig);
  const shadows = new IoTDataPlaneClient(clientConfig);
  const sqs = new SQSClient(clientConfig);
  const clock = options.clock ?? Date.now;
  const devices = devicesOf(options.config);
  const presence = new Map<string, { connected: boolean; since: number }>();
  const commands: Array<{ at: number; thing: string; desired: Record<string, unknown> }> = [];

  const unsubscribes = [
    options.bus.subscribe(presenceTopic('connected', '+'), (m) => {
      presence.set(m.topic.split('/').pop()!, { connected: true, since: Date.now() });
    }),
    options.bus.subscribe(presenceTopic('disconnected', '+'), (m) => {
      presence.set(m.topic.split('/').pop()!, { connected: false, since: Date.now() });
    }),
    options.bus.subscribe(`$aws/things/+/shadow/name/${COMMAND_SHADOW_NAME}/update/accepted`, (m) => {
      try {
        const doc = JSON.parse(m.payload.toString('utf8')) as {
          state?: { desired?: Record<string, unknown> };
        };
        if (doc.state?.desired) {
          commands.unshift({ at: Date.now(), thing: m.topic.split('/')[2]!, desired: doc.state.desired });
          commands.length = Math.min(commands.length, 30);
        }
      } catch {
        // a malformed accepted document is the shadow service's bug, not the dashboard's
      }
    }),
  ];

  async function runQuery(sql: string): Promise<Array<Record<string, string | undefined>>> {
    const rows: Array<Record<string, string | undefined>> = [];
    let next: string | undefined;
    do {
      const out: QueryCommandOutput = await query.send(
        new QueryCommand({ QueryString: sql, NextToken: next }),
      );
      const names = (out.ColumnInfo ?? []).map((c) => c.Name ?? '');
      for (const row of out.Rows ?? []) {
        const record: Record<string, string | undefined> = {};
        row.Data?.forEach((d, i) => {
          record[names[i]!] = d.NullValue ? undefined : d.ScalarValue;
        });
        rows.push(record);
      }
      next = out.NextToken;
    } while (next);
    return rows;
  }

  async function shadowOf(
    thing: string,
  ): Promise<{ desired: DesiredCommandState; reported: ReportedCommandState }> {
    try {
      const out = await shadows.send(
        new GetThingShadowCommand({ thingName: thing, shadowName: COMMAND_SHADOW_NAME }),
      );
      const doc = JSON.parse(new TextDecoder().decode(out.payload)) as {
        state?: { desired?: DesiredCommandState; reported?: ReportedCommandState };
      };
      return { desired: doc.state?.desired ?? {}, reported: doc.state?.reported ?? {} };
    } catch (err) {
      if ((err as Error).name === 'ResourceNotFoundException') return { desired: {}, reported: {} };
      throw err;
    }
  }

  async function deadLetters() {
    if (!options.deadLetterQueueUrl) return { count: 0, latest: [] };
    const attrs = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: options.deadLetterQueueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    const count =
      Number(attrs.Attributes?.ApproximateNumberOfMessages ?? 0) +
      Number(attrs.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
    const peek = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: options.deadLetterQueueUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 0,
        WaitTimeSeconds: 0,
      }),
    );
    const latest = (peek.Messages ?? []).map((m) => {
      const { at, thing, source, reason } = describeDeadLetter(m.Body ?? '');
      return { at, thing, source, reason };
    });
    return { count, latest };
  }

  async function state() {
    const now = clock();
    const policy = options.config.comfort;
    const scheduled = isScheduledOccupied(policy, now);
    const rows = await runQuery(
      latestReadingsQuery(options.timestream.database, options.timestream.table, now - 6 * 3_600_000, now),
    );
    const latest = new Map<string, Partial<Record<SensorKind, number>> & { at?: number }>();
    for (const row of rows) {
      const zone = row.zone ?? '';
      const entry = latest.get(zone) ?? {};
      for (const kind of SENSOR_KINDS) {
        const v = row[kind];
        if (v !== undefined && entry[kind] === undefined) entry[kind] = Number(v);
      }
      entry.at ??= parseTimestreamTime(row.time);
      latest.set(zone, entry);
    }
    const shadowByThing = new Map(
      await Promise.all(
        actuatorsOf(options.config).map(async (a) => [a.thing, await shadowOf(a.thing)] as const),
      ),
    );
    const zones = options.config.zones.map((zone) => ({
      id: zone.id,
      name: zone.name,
      readings: latest.get(zone.id) ?? {},
      setpoint: scheduled ? policy.occupiedSetpoint : policy.unoccupiedSetpoint,
      comfortBand: policy.comfortBand,
      co2Limit: policy.co2Limit,
      co2HighLimit: policy.co2HighLimit,
      scheduledOccupied: scheduled,
      actuators: zone.devices.flatMap((d) =>
        d.drives.map((kind) => {
          const s = shadowByThing.get(d.thing);
          const until = s?.desired.override?.[kind] ?? undefined;
          return {
            thing: d.thing,
            kind,
            desired: s?.desired[kind],
            reported: s?.reported[kind],
            overrideUntil: until && until > Date.now() ? until : undefined,
            mode: s?.reported.mode,
            rejected: s?.reported.rejected?.[kind],
          };
        }),
      ),
    }));
    return {
      generatedAt: Date.now(),
      building: { id: options.config.buildingId, name: options.config.name },
      zones,
      devices: devices.map((d) => ({
        thing: d.thing,
        zone: d.zone,
        connected: presence.get(d.thing)?.connected ?? false,
        since: presence.get(d.thing)?.since,
      })),
      commands,
      deadLetters: await deadLetters(),
      figures: { ...(options.figures?.() ?? {}), simulatedTime: options.clock ? now : undefined },
    };
  }

  async function series(measure: string) {
    if (!(SENSOR_KINDS as readonly string[]).includes(measure)) {
      throw new DashboardInputError(
        `unknown measure '${measure}'; expected one of ${SENSOR_KINDS.join(', ')}`,
      );
    }
    const now = clock();
    const hours = options.chartHours ?? 24;
    const binMinutes = hours > 6 ? 15 : 5;
    const rows = await runQuery(
      zoneSeriesQuery(
        options.timestream.database,
        options.timestream.table,
        measure as SensorKind,
        now - hours * 3_600_000,
        now,
        binMinutes,
      ),
    );
    const times = [...new Set(rows.map((r) => parseTimestreamTime(r.t)))].sort((a, b) => a - b);
    const index = new Map(times.map((t, i) => [t, i]));
    const values: Record<string, Array<number | null>> = {};
    for (const zone of options.config.zones) values[zone.id] = times.map(() => null);
    for (const row of rows) {
      const arr = values[row.zone ?? ''];
      const i = index.get(parseTimestreamTime(row.t));
      if (arr && i !== undefined && row.v !== undefined) arr[i] = Math.round(Number(row.v) * 100) / 100;
    }
    return { t: times, values };
  }

  async function override(body: unknown) {
    const req = body as { zone?: unknown; kind?: unknown; value?: unknown; minutes?: unknown };
    const zone = options.config.zones.find((z) => z.id === req.zone);
    if (!zone) throw new DashboardInputError(`unknown zone '${String(req.zone)}'`);
    if (!(ACTUATOR_KINDS as readonly unknown[]).includes(req.kind)) {
      throw new DashboardInputError(
        `unknown actuator '${String(req.kind)}'; expected one of ${ACTUATOR_KINDS.join(', ')}`,
      );
    }
    const kind = req.kind as ActuatorKind;
    const minutes = Number(req.minutes);
    const max = options.config.comfort.maxOverrideMinutes;
    if (!Number.isFinite(minutes) || minutes <= 0 || minutes > max) {
      throw new DashboardInputError(
        `override minutes must be between 0 and ${max} (comfort.maxOverrideMinutes)`,
      );
    }
    const targets = zone.devices.filter((d) => d.drives.includes(kind));
    if (targets.length === 0)
      throw new DashboardInputError(`zone '${zone.id}' has no device that drives ${kind}`);
    const check = checkCommand(kind, req.value, [kind]);
    if (!check.ok) throw new DashboardInputError(check.reason);
    const until = Date.now() + Math.round(minutes * 60_000);
    for (const d of targets) {
      const desired = { [kind]: check.value, override: { [kind]: until } };
      await shadows.send(
        new UpdateThingShadowCommand({
          thingName: d.thing,
          shadowName: COMMAND_SHADOW_NAME,
          payload: new TextEncoder().encode(
            JSON.stringify({ state: { desired }, clientToken: `operator-${until}` }),
          ),
        }),
      );
    }
    return { until, things: targets.map((d) => d.thing) };
  }

  const route: ServiceRoute = {
    name: 'dashboard',
    protocol: 'rest-json',
    matches: (req) => req.path === '/' || req.path === '/dashboard' || req.path.startsWith('/dashboard/'),
    async handle(req: AwsRequest): Promise<AwsResponse> {
      if (req.path === '/' || req.path === '/dashboard') {
        return { status: 302, headers: { location: '/dashboard/' } };
      }
      const sub = req.path.slice('/dashboard/'.length);
      try {
        if (sub === 'api/state' && req.method === 'GET') return json(200, await state());
        if (sub === 'api/series' && req.method === 'GET')
          return json(200, await series(req.query.get('measure') ?? ''));
        if (sub === 'api/override' && req.method === 'POST')
          return json(200, await override(parseBody(req.body)));
        if (sub.startsWith('api/'))
          return json(404, { message: `no dashboard API ${req.method} /dashboard/${sub}` });
        return await staticFile(sub === '' ? 'index.html' : sub);
      } catch (err) {
        if (err instanceof DashboardInputError) return json(400, { message: err.message });
        return json(502, { message: `the pipeline did not answer: ${(err as Error).message}` });
      }
    },
  };

  return {
    route,
    async close() {
      for (const u of unsubscribes) u();
      query.destroy();
      shadows.destroy();
      sqs.destroy();
    },
  };
}

function parseBody(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new DashboardInputError('the request body is not JSON');
  }
}

async function staticFile(path: string): Promise<AwsResponse> {
  const clean = normalize(path).replace(/^(\.\.[/\\])+/, '');
  const file = clean.startsWith('vendor/')
    ? join(UPLOT_DIR, clean.slice('vendor/'.length))
    : join(PUBLIC_DIR, clean);
  try {
    const body = await readFile(file);
    return {
      status: 200,
      headers: {
        'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
        'cache-control': 'no-cache',
      },
      body,
    };
  } catch {
    return { status: 404, headers: { 'content-type': 'text/plain' }, body: `not found: /dashboard/${path}` };
  }
}

function json(status: number, body: unknown): AwsResponse {
  return { status, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(body)) };
}

/** Timestream returns '2026-11-23 20:00:00.000000000' (UTC). */
export function parseTimestreamTime(value: string | undefined): number {
  if (!value) return Number.NaN;
  return Date.parse(`${value.replace(' ', 'T').slice(0, 23)}Z`);
}
