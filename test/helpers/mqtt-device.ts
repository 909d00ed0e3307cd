/**
 * Devices for tests: aws-iot-device-sdk-v2 MQTT 3.1.1 connections over mutual TLS, as the
 * device agent makes them. Every connection opened here is tracked so `disconnectAll()` in
 * afterEach leaves no native handle behind.
 */
import { iot, mqtt } from 'aws-iot-device-sdk-v2';

export interface Received {
  readonly topic: string;
  readonly payload: string;
  readonly retain: boolean;
}

export interface TestDevice {
  readonly connection: mqtt.MqttClientConnection;
  readonly received: Received[];
  /** Resolves with the SDK's error name when the broker drops the connection. */
  readonly interrupted: Promise<string>;
  subscribe(filter: string, qos?: mqtt.QoS): Promise<void>;
  /** Publishes a string or bytes as they are, any other value as JSON. */
  publish(
    topic: string,
    payload: string | Uint8Array | object,
    qos?: mqtt.QoS,
    retain?: boolean,
  ): Promise<void>;
  /** The first message on `topic` not handed out yet, waiting up to `timeoutMs` for one. */
  next(topic: string, timeoutMs?: number): Promise<Received>;
  disconnect(): Promise<void>;
}

const open = new Set<TestDevice>();

export interface ConnectOptions {
  readonly port: number;
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly clientId: string;
  readonly cleanSession?: boolean;
}

export async function connectDevice(options: ConnectOptions): Promise<TestDevice> {
  const config = iot.AwsIotMqttConnectionConfigBuilder.new_mtls_builder_from_path(
    options.certFile,
    options.keyFile,
  )
    .with_certificate_authority_from_path(undefined, options.caFile)
    .with_endpoint('localhost')
    .with_port(options.port)
    .with_client_id(options.clientId)
    .with_clean_session(options.cleanSession ?? true)
    .with_keep_alive_seconds(30)
    .with_reconnect_min_sec(5)
    .with_reconnect_max_sec(30)
    .build();
  const client = new mqtt.MqttClient();
  const connection = client.new_connection(config);
  const received: Received[] = [];
  const handedOut = new Set<Received>();
  const waiters: Array<{ topic: string; resolve: (r: Received) => void }> = [];
  connection.on('message', (topic, payload, _dup, _qos, retain) => {
    const r = { topic, payload: Buffer.from(payload).toString('utf8'), retain };
    received.push(r);
    for (const w of [...waiters]) {
      if (w.topic === topic) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(r);
      }
    }
  });
  let online = true;
  connection.on('resume', () => {
    online = true;
  });
  const interrupted = new Promise<string>((resolve) => {
    connection.on('interrupt', (err) => {
      online = false;
      resolve(err.error_name ?? err.message);
    });
  });
  connection.on('error', () => {});
  let closed = false;
  const device: TestDevice = {
    connection,
    received,
    interrupted,
    async subscribe(filter, qos = mqtt.QoS.AtLeastOnce) {
      await connection.subscribe(filter, qos);
    },
    async publish(topic, payload, qos = mqtt.QoS.AtLeastOnce, retain = false) {
      await connection.publish(
        topic,
        typeof payload === 'string' || payload instanceof Uint8Array ? payload : JSON.stringify(payload),
        qos,
        retain,
      );
    },
    next(topic, timeoutMs = 5000) {
      const early = received.find((r) => r.topic === topic && !handedOut.has(r));
      if (early) {
        handedOut.add(early);
        return Promise.resolve(early);
      }
      return new Promise<Received>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no message on ${topic} within ${timeoutMs} ms`)),
          timeoutMs,
        );
        waiters.push({
          topic,
          resolve: (r) => {
            handedOut.add(r);
            clearTimeout(timer);
            resolve(r);
          },
        });
      });
    },
    async disconnect() {
      if (closed) return;
      closed = true;
      open.delete(device);
      try {
        // While the SDK waits to reconnect, disconnect() stops it but its promise never settles.
        const wait = online ? 2000 : 50;
        await Promise.race([connection.disconnect(), new Promise((r) => setTimeout(r, wait).unref())]);
      } catch {
        // already gone
      }
    },
  };
  open.add(device);
  try {
    await connection.connect();
  } catch (err) {
    await device.disconnect();
    throw err;
  }
  return device;
}

export async function disconnectAll(): Promise<void> {
  await Promise.all([...open].map((d) => d.disconnect()));
}
