/**
 * The device agent: samples sensors, keeps readings in the disk buffer, publishes them at
 * QoS 1 under the edge policy, follows the command shadow, and keeps the zone safe with the
 * fallback loop while the cloud is away. Imports only contracts/, its own files and npm
 * packages, so it runs on a device by itself.
 */
import { randomUUID } from 'node:crypto';
import { iotshadow, mqtt } from 'aws-iot-device-sdk-v2';
import {
  type ActuatorKind,
  type ActuatorState,
  type ControlMode,
  MAX_READINGS_PER_MESSAGE,
  type Reading,
  TELEMETRY_VERSION,
} from '../contracts';
import { type BufferOptions, ReadingBuffer } from './buffer';
import type { DeviceBundle } from './bundle';
import { type LinkOptions, MqttLink } from './connection';
import {
  type ActuatorDriver,
  actuatorFor,
  actuatorStateOf,
  readAll,
  type SensorDriver,
  type SensorValues,
  simulatedActuators,
  simulatedSensors,
} from './drivers';
import { EdgePolicy, type EdgePolicyOptions, edgePolicyFor } from './edge-policy';
import { DEFAULT_FALLBACK, DEFAULT_SAFETY_LIMITS, type FallbackOptions, fallbackCommands } from './fallback';
import { type DesiredPlan, planDesired, reportedState } from './shadow-sync';

export interface AgentOptions {
  /** Where the buffer journal lives (keep it on persistent storage). */
  readonly dataDir: string;
  /** Sensor drivers; default: simulated sensors for what the bundle says the device senses. */
  readonly sensors?: readonly SensorDriver[];
  /** Actuator drivers; default: simulated actuators for what the bundle says the device drives. */
  readonly actuators?: readonly ActuatorDriver[];
  readonly policy?: Partial<EdgePolicyOptions>;
  readonly fallback?: Partial<FallbackOptions>;
  readonly buffer?: BufferOptions;
  readonly link?: Partial<
    Pick<LinkOptions, 'minBackoffMs' | 'maxBackoffMs' | 'stableAfterMs' | 'keepAliveSec'>
  >;
  /** Telemetry messages awaiting PUBACK at once. Default 4. */
  readonly maxInFlight?: number;
  /** Overrides the endpoint in the bundle (tests, or a device behind a proxy). */
  readonly endpoint?: { readonly host: string; readonly port: number };
  /** Take the first sample right away rather than one interval after start. Default true. */
  readonly sampleOnStart?: boolean;
  /**
   * 'timer' (default): the agent samples every `sampleIntervalMs` by itself. 'manual': only when
   * `sample()` is called, for a simulation that steps its devices through simulated time.
   */
  readonly sampling?: 'timer' | 'manual';
  readonly log?: (line: string) => void;
  readonly now?: () => number;
}

export interface AgentStats {
  readonly online: boolean;
  readonly mode: ControlMode;
  readonly samples: number;
  readonly readings: number;
  readonly messages: number;
  /** Readings the broker acknowledged (PUBACK), each counted once. */
  readonly published: number;
  readonly pending: number;
  readonly dropped: number;
  readonly nextSeq: number;
  readonly actuators: ActuatorState;
  readonly rejected: Readonly<Record<string, string>>;
}

export interface Agent {
  readonly bundle: DeviceBundle;
  stats(): AgentStats;
  /** Takes one sample now (also runs on the sample timer). */
  sample(): Promise<void>;
  /** Publishes everything waiting, waiting at most `timeoutMs` for the PUBACKs. */
  flush(timeoutMs?: number): Promise<void>;
  /**
   * Resolves once no telemetry message awaits its PUBACK and no desired change is being
   * applied. Publishes nothing itself: what the edge policy keeps waiting stays waiting.
   */
  idle(): Promise<void>;
  /** Flushes, reports, disconnects and closes everything. Safe to call twice. */
  stop(): Promise<void>;
}

export async function runAgent(bundle: DeviceBundle, options: AgentOptions): Promise<Agent> {
  const log = options.log ?? ((line: string) => console.error(`[${bundle.thing}] ${line}`));
  const now = options.now ?? Date.now;
  const sensors = options.sensors ?? (bundle.senses.length > 0 ? [simulatedSensors(bundle.senses)] : []);
  const actuators =
    options.actuators ?? (bundle.drives.length > 0 ? [simulatedActuators(bundle.drives)] : []);
  const drives = bundle.drives;
  const policy = new EdgePolicy(edgePolicyFor(bundle.safety, options.policy));
  const batchSize = Math.min(policy.options.batchSize, MAX_READINGS_PER_MESSAGE);
  const fallback = { ...DEFAULT_FALLBACK, ...options.fallback };
  const limits = bundle.safety ?? DEFAULT_SAFETY_LIMITS;
  const maxInFlight = options.maxInFlight ?? 4;
  const buffer = ReadingBuffer.open(options.dataDir, options.buffer);
  const shadowName = bundle.topics.commandShadow;

  let mode: ControlMode = 'cloud';
  let fallbackUsed = false;
  let offlineSince: number | undefined = now();
  let lastReadings: SensorValues = {};
  const lastCloud: ActuatorState = {};
  const rejected = new Map<string, string>();
  let samples = 0;
  let lastSampleAt = 0;
  let readings = 0;
  let messages = 0;
  let published = 0;
  let messagesInFlight = 0;
  let urgent = false;
  let stopped = false;
  let shadow: iotshadow.IotShadowClient | undefined;
  const idle: Array<() => void> = [];

  // ---- telemetry -------------------------------------------------------------------------
  const pump = (): void => {
    const connection = link.connection;
    while (connection && messagesInFlight < maxInFlight && buffer.waiting > 0) {
      const batch = buffer.take(batchSize);
      if (batch.length === 0) break;
      messagesInFlight++;
      const seqs = batch.map((r) => r.seq);
      const payload = JSON.stringify({ v: TELEMETRY_VERSION, readings: batch satisfies Reading[] });
      connection
        .publish(bundle.topics.telemetry, payload, mqtt.QoS.AtLeastOnce)
        .then(() => {
          published += buffer.ack(seqs);
          messages++;
        })
        .catch(() => buffer.release(seqs))
        .finally(() => {
          messagesInFlight--;
          if (link.online && buffer.waiting > 0) pump();
          if (messagesInFlight === 0) for (const done of idle.splice(0)) done();
        });
    }
    urgent = false;
  };

  const sample = async (): Promise<void> => {
    if (stopped) return;
    const values = await readAll(sensors, (driver, err) =>
      log(`sensor driver for ${driver.kinds.join(', ')} failed: ${(err as Error).message ?? String(err)}`),
    );
    // Timestamps strictly increase per thing: two readings in one millisecond would share a
    // record identity (dimensions, time, measure name) in the store, and one would be refused.
    const at = Math.max(now(), lastSampleAt + 1);
    lastSampleAt = at;
    samples++;
    lastReadings = { ...lastReadings, ...values };
    const decision = policy.consider(values, at);
    if (decision.keep) {
      buffer.append(at, values);
      readings++;
      urgent ||= decision.urgent;
    }
    if (policy.shouldFlush(buffer.waiting, buffer.oldestWaitingTs(), at, urgent)) pump();
    await runFallback(at);
  };

  // ---- actuators and shadow --------------------------------------------------------------
  const applyValues = async (
    values: ReadonlyArray<{ kind: ActuatorKind; value: NonNullable<ActuatorState[ActuatorKind]> }>,
  ): Promise<Record<string, string>> => {
    const failed: Record<string, string> = {};
    for (const { kind, value } of values) {
      const driver = actuatorFor(actuators, kind);
      if (!driver) {
        failed[kind] = `no driver on this device drives ${kind}`;
        continue;
      }
      try {
        await driver.apply(kind, value);
      } catch (err) {
        failed[kind] = `the ${kind} driver failed: ${(err as Error).message ?? String(err)}`;
      }
    }
    return failed;
  };

  const report = async (plan?: DesiredPlan, failed: Record<string, string> = {}): Promise<void> => {
    const client = shadow;
    if (!client || !link.online) return;
    const reported = reportedState({
      drives,
      state: actuatorStateOf(actuators),
      plan,
      previouslyRejected: new Set(rejected.keys()),
      failed,
      mode,
      extra: buffer.dropped > 0 ? { buffer: { dropped: buffer.dropped } } : undefined,
    });
    for (const [key, reason] of Object.entries(reported.rejected ?? {})) {
      if (reason === null) rejected.delete(key);
      else rejected.set(key, reason);
    }
    try {
      await client.publishUpdateNamedShadow(
        { thingName: bundle.thing, shadowName, state: { reported }, clientToken: randomUUID() },
        mqtt.QoS.AtLeastOnce,
      );
    } catch (err) {
      log(`shadow report failed: ${(err as Error).message ?? String(err)}`);
    }
  };

  let desiredChain = Promise.resolve();
  const onDesired = (desired: unknown): Promise<void> => {
    // one desired change at a time, in arrival order
    desiredChain = desiredChain.then(async () => {
      const plan = planDesired(desired, drives);
      for (const [key, reason] of Object.entries(plan.rejected)) log(`refused desired ${key}: ${reason}`);
      const failed = await applyValues(plan.apply);
      for (const { kind, value } of plan.apply) {
        if (!(kind in failed)) (lastCloud as Record<string, unknown>)[kind] = value;
      }
      await report(plan, failed);
    });
    return desiredChain;
  };

  const runFallback = async (at: number): Promise<void> => {
    if (link.online || offlineSince === undefined || at - offlineSince < fallback.afterMs) return;
    if (mode !== 'fallback') {
      mode = 'fallback';
      fallbackUsed = true;
      log(
        `cloud unreachable for ${Math.round((at - offlineSince) / 1000)} s: local fallback control takes over`,
      );
    }
    const changes = fallbackCommands({
      readings: lastReadings,
      lastCloud,
      current: actuatorStateOf(actuators),
      limits,
      drives,
    });
    const entries = Object.entries(changes) as Array<
      [ActuatorKind, NonNullable<ActuatorState[ActuatorKind]>]
    >;
    if (entries.length === 0) return;
    log(`fallback sets ${entries.map(([k, v]) => `${k}=${v}`).join(', ')}`);
    await applyValues(entries.map(([kind, value]) => ({ kind, value })));
  };

  const onOnline = async (connection: mqtt.MqttClientConnection): Promise<void> => {
    offlineSince = undefined;
    const client = new iotshadow.IotShadowClient(connection);
    const request = { thingName: bundle.thing, shadowName };
    const qos = mqtt.QoS.AtLeastOnce;
    if (drives.length > 0) {
      // Deltas at QoS 0: the agent answers a delta with its reported state at once, and a QoS 1
      // delivery first costs a PUBACK round trip. A delta lost with a dropped connection is not
      // lost to the device: every connect subscribes again and gets the whole shadow, whose
      // delta it applies (clean session, see device/connection.ts).
      await client.subscribeToNamedShadowDeltaUpdatedEvents(request, mqtt.QoS.AtMostOnce, (err, event) => {
        if (err || !event?.state) return;
        void onDesired(event.state);
      });
      await client.subscribeToGetNamedShadowAccepted(request, qos, (err, response) => {
        if (err || !response) return;
        const desired = (response.state?.desired ?? {}) as Record<string, unknown>;
        const valid = planDesired(desired, drives);
        for (const { kind, value } of valid.apply) (lastCloud as Record<string, unknown>)[kind] = value;
        void onDesired(response.state?.delta ?? {});
      });
      await client.subscribeToGetNamedShadowRejected(request, qos, (_err, response) => {
        // 404: no shadow yet; report what the device is doing so the cloud sees it
        if (response?.code !== 404) log(`shadow get refused: ${response?.code} ${response?.message ?? ''}`);
        void onDesired({});
      });
      await client.subscribeToUpdateNamedShadowRejected(request, qos, (_err, response) => {
        log(`shadow update refused: ${response?.code} ${response?.message ?? ''}`);
      });
    }
    shadow = client;
    if (fallbackUsed) {
      // tell the cloud what the device did on its own, then hand control back
      await report();
      mode = 'cloud';
      fallbackUsed = false;
      log('cloud reachable again: control handed back to the cloud');
    }
    mode = 'cloud';
    if (drives.length > 0) {
      await client.publishGetNamedShadow({ ...request, clientToken: randomUUID() }, qos);
    }
    buffer.release();
    pump();
  };

  const onOffline = (reason: string): void => {
    shadow = undefined;
    offlineSince = now();
    buffer.release();
    log(`offline: ${reason}; ${buffer.size} readings kept on disk`);
  };

  const endpoint = options.endpoint ?? bundle.endpoint;
  const link = MqttLink.start(
    {
      host: endpoint.host,
      port: endpoint.port,
      clientId: bundle.clientId,
      certificatePem: bundle.certificatePem,
      privateKeyPem: bundle.privateKeyPem,
      caPem: bundle.caPem,
      ...options.link,
      log,
    },
    { onOnline, onOffline },
  );

  const tick = () => {
    sample().catch((err) => log(`sample failed: ${(err as Error).message ?? String(err)}`));
  };
  const manual = options.sampling === 'manual';
  const timer = manual ? undefined : setInterval(tick, policy.options.sampleIntervalMs);
  if (!manual && (options.sampleOnStart ?? true)) setImmediate(tick);

  // The flush deadline is wall-clock time even when `now` is a simulated clock.
  const flush = async (timeoutMs = 5_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (link.online && (buffer.waiting > 0 || messagesInFlight > 0) && Date.now() < deadline) {
      pump();
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        idle.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  };

  const whenIdle = async (): Promise<void> => {
    while (messagesInFlight > 0) await new Promise<void>((resolve) => idle.push(resolve));
    await desiredChain.catch(() => undefined);
  };

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
    await flush();
    await desiredChain.catch(() => undefined);
    await report();
    await link.close();
    buffer.close();
    for (const d of [...sensors, ...actuators]) await d.close?.().catch(() => undefined);
    log(`stopped: ${messages} messages published, ${buffer.size} readings kept for next time`);
  };

  return {
    bundle,
    sample,
    flush,
    idle: whenIdle,
    stop,
    stats: () => ({
      online: link.online,
      mode,
      samples,
      readings,
      messages,
      published,
      pending: buffer.size,
      dropped: buffer.dropped,
      nextSeq: buffer.nextSeq,
      actuators: actuatorStateOf(actuators),
      rejected: Object.fromEntries(rejected),
    }),
  };
}
