/**
 * The MQTT link: one mutual-TLS MQTT 3.1.1 connection at a time (aws-iot-device-sdk-v2), kept
 * up by our own loop with exponential backoff and jitter.
 *
 * Why our own loop rather than the SDK's built-in reconnect: the SDK retries only after a
 * connection that once succeeded, and without jitter; a fleet that lost its broker would come
 * back in lock-step. Here every attempt, first or not, waits `cap/2 + random * cap/2` with
 * `cap = min(maxBackoffMs, minBackoffMs * 2^attempt)`, and a connection that drops within
 * `stableAfterMs` counts as a failed attempt (that is how AWS IoT refuses: a bare hang-up).
 *
 * Clean session: true. The agent subscribes again and fetches the shadow on every connect, and
 * telemetry survives outages in the disk buffer, so a persistent broker session adds nothing
 * but queued (billed) messages and stale deltas that the shadow get supersedes.
 */
import { iot, mqtt } from 'aws-iot-device-sdk-v2';

export interface LinkOptions {
  readonly host: string;
  readonly port: number;
  readonly clientId: string;
  readonly certificatePem: string;
  readonly privateKeyPem: string;
  readonly caPem: string;
  /** First retry delay cap, ms. Default 1,000. */
  readonly minBackoffMs?: number;
  /** Largest retry delay cap, ms. Default 60,000. */
  readonly maxBackoffMs?: number;
  /** A connection that lasts this long resets the backoff, ms. Default 10,000. */
  readonly stableAfterMs?: number;
  /** MQTT keep-alive, s. Default 30. */
  readonly keepAliveSec?: number;
  readonly random?: () => number;
  readonly log: (line: string) => void;
}

export interface LinkHandlers {
  /** Called on every successful connect; a throw counts as a lost connection. */
  onOnline(connection: mqtt.MqttClientConnection): Promise<void>;
  /** Called once per lost connection, with the reason in plain words. */
  onOffline(reason: string): void;
}

/** Delay before retry number `attempt` (0-based): exponential with equal jitter. */
export function backoffDelay(attempt: number, minMs: number, maxMs: number, random: () => number): number {
  const cap = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30));
  return Math.round(cap / 2 + random() * (cap / 2));
}

/** Says in plain words why a connection failed and what to check. */
export function explainConnectionError(
  err: unknown,
  ctx: { host: string; port: number; clientId: string },
): string {
  const e = err as { error_name?: string; message?: string; code?: string };
  const name = `${e?.error_name ?? ''} ${e?.code ?? ''} ${e?.message ?? String(err)}`;
  const where = `${ctx.host}:${ctx.port}`;
  if (/CONNECTION_REFUSED|ECONNREFUSED/i.test(name) && /SOCKET|ECONNREFUSED/i.test(name)) {
    return `nothing accepts connections at ${where} (connection refused): check the endpoint and port in the bundle and that the broker is running`;
  }
  if (/DNS|ENOTFOUND|EAI_AGAIN/i.test(name)) {
    return `cannot resolve ${ctx.host}: check the endpoint in the bundle and the device's DNS`;
  }
  if (/TLS/i.test(name)) {
    return `TLS handshake with ${where} failed (${e?.error_name ?? 'TLS error'}): check the bundle's CA matches the broker and the certificate is ACTIVE and issued for this account`;
  }
  if (/HANGUP|NOT_AUTHORIZED|CONNECTION_REFUSED|BAD_USERNAME|PROTOCOL_ERROR|refused/i.test(name)) {
    return `the broker refused the connection (${e?.error_name ?? 'hang-up'}): check the certificate is ACTIVE and the policy allows client id ${ctx.clientId}`;
  }
  if (/TIMEOUT|ETIMEDOUT/i.test(name)) {
    return `no answer from ${where} (timed out): check the network path and the endpoint`;
  }
  return `connection to ${where} failed: ${e?.error_name ?? e?.message ?? String(err)}`;
}

export class MqttLink {
  private closed = false;
  private current: mqtt.MqttClientConnection | undefined;
  private isOnline = false;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private lost: ((reason: string) => void) | undefined;
  private readonly client = new mqtt.MqttClient();
  private lastReason = '';

  private constructor(
    private readonly options: LinkOptions,
    private readonly handlers: LinkHandlers,
  ) {}

  /** Starts connecting in the background; returns at once. */
  static start(options: LinkOptions, handlers: LinkHandlers): MqttLink {
    const link = new MqttLink(options, handlers);
    link.loop = link.run();
    return link;
  }

  get online(): boolean {
    return this.isOnline;
  }

  get connection(): mqtt.MqttClientConnection | undefined {
    return this.isOnline ? this.current : undefined;
  }

  private config(): mqtt.MqttConnectionConfig {
    const o = this.options;
    return (
      iot.AwsIotMqttConnectionConfigBuilder.new_mtls_builder(o.certificatePem, o.privateKeyPem)
        .with_certificate_authority(o.caPem)
        .with_endpoint(o.host)
        .with_port(o.port)
        .with_client_id(o.clientId)
        .with_clean_session(true)
        .with_keep_alive_seconds(o.keepAliveSec ?? 30)
        // aws-crt requires the ping timeout to be shorter than the keep-alive interval.
        .with_ping_timeout_ms(Math.min(5_000, (o.keepAliveSec ?? 30) * 500))
        .with_protocol_operation_timeout_ms(20_000)
        // the SDK's own reconnect is stopped right after an interrupt (see run); a short timer
        // matters because disconnect() completes only when that pending reconnect task runs
        .with_reconnect_min_sec(1)
        .with_reconnect_max_sec(1)
        .build()
    );
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }

  private async run(): Promise<void> {
    const o = this.options;
    const ctx = { host: o.host, port: o.port, clientId: o.clientId };
    const random = o.random ?? Math.random;
    let attempt = 0;
    while (!this.closed) {
      const connection = this.client.new_connection(this.config());
      this.current = connection;
      let lose: (reason: string) => void = () => undefined;
      const lostPromise = new Promise<string>((resolve) => {
        lose = resolve;
      });
      this.lost = lose;
      connection.on('interrupt', (err) => lose(explainConnectionError(err, ctx)));
      connection.on('error', (err) => lose(explainConnectionError(err, ctx)));
      connection.on('closed', () => lose('the connection closed'));
      let connectedAt: number | undefined;
      try {
        await connection.connect();
        connectedAt = Date.now();
        if (!this.closed) {
          this.isOnline = true;
          this.lastReason = '';
          o.log(`connected to ${o.host}:${o.port} as ${o.clientId}`);
          await this.handlers.onOnline(connection);
          this.report(await lostPromise);
        }
      } catch (err) {
        if (!this.closed) this.report(explainConnectionError(err, ctx));
      }
      this.lost = undefined;
      const wasOnline = this.isOnline;
      this.isOnline = false;
      if (wasOnline) this.handlers.onOffline(this.lastReason);
      await connection.disconnect().catch(() => undefined);
      if (this.closed) break;
      const stable = connectedAt !== undefined && Date.now() - connectedAt >= (o.stableAfterMs ?? 10_000);
      attempt = stable ? 0 : attempt + 1;
      const delay = backoffDelay(attempt, o.minBackoffMs ?? 1_000, o.maxBackoffMs ?? 60_000, random);
      o.log(`retrying in ${(delay / 1000).toFixed(1)} s`);
      await this.sleep(delay);
    }
  }

  private report(reason: string): void {
    // one line per distinct reason, so a long outage does not flood the log
    if (reason !== this.lastReason) this.options.log(reason);
    this.lastReason = reason;
  }

  /** Disconnects cleanly and stops reconnecting; frees the native connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wake?.();
    this.lost?.('closing');
    await this.loop?.catch(() => undefined);
  }
}
