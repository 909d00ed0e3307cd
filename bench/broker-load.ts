/**
 * The broker under load, through its public MQTT port only (AWS IoT Device SDK v2 over mutual
 * TLS), so the same loads run against the local cloud and against a peer:
 *   - throughput: one device publishes `messages` QoS 1 messages of `payloadBytes` to
 *     bench/<thing>/<n>, `inFlight` awaiting PUBACK at once; another device subscribed at QoS 1
 *     to bench/<thing>/+ receives them. Messages per second from the first publish to the last
 *     delivery, and the target's CPU per message when its process is known; after a warm-up
 *     run, the median of 3 runs. Both devices' publishes, subscriptions and deliveries go
 *     through the target's policy checks.
 *   - connects: `connects` mutual-TLS connect + disconnect in sequence with one certificate,
 *     twice: with the device SDK (what devices use; this rate is mostly the client's: it builds
 *     a TLS context per connection, about 10 ms, and it writes the second flight of its
 *     handshake in several TCP writes without TCP_NODELAY, so the second write waits for the
 *     server's delayed ACK, about 40 ms on Linux, which a Node server cannot turn off), and with
 *     a bare client (Node's TLS and a hand-made MQTT 3.1.1 CONNECT, no session resumption), whose
 *     rate is the target's.
 */
import { once } from 'node:events';
import { isIP } from 'node:net';
import tls from 'node:tls';
import type { mqtt } from 'aws-iot-device-sdk-v2';
import { connectPacket } from './chaos/raw-mqtt';
import { cpuDuring, procAvailable } from './proc';
import { type Metric, median, withTimeout } from './report';
import { BENCH_TOPIC_PREFIX, type BenchDevice, type BenchTarget, connectMqtt } from './target';

export interface ThroughputResult {
  readonly messagesPerSecond: number;
  /** Target CPU per delivered message, ms; undefined when its process is unknown. */
  readonly cpuMsPerMessage?: number;
  /** CPU of this process (the publishing and subscribing clients) per message, median of the runs. */
  readonly clientCpuMsPerMessage: number;
  readonly delivered: number;
  /** Timed runs after the warm-up; rate and CPU are their medians. */
  readonly runs: number;
}

const RUNS = 3;

export async function publishToSubscriber(
  target: BenchTarget,
  publisher: BenchDevice,
  subscriber: BenchDevice,
  o: { messages: number; payloadBytes: number; inFlight: number },
): Promise<ThroughputResult> {
  const { mqtt } = await import('aws-iot-device-sdk-v2');
  const pub = await connectMqtt(target, publisher);
  const sub = await connectMqtt(target, subscriber);
  try {
    let delivered = 0;
    let expected = 0;
    let allIn: () => void = () => {};
    await sub.subscribe(`${BENCH_TOPIC_PREFIX}/${publisher.thingName}/+`, mqtt.QoS.AtLeastOnce, () => {
      if (++delivered === expected) allIn();
    });
    const payload = Buffer.alloc(o.payloadBytes, 'x');
    const run = async (messages: number) => {
      delivered = 0;
      const allDelivered = new Promise<void>((resolve) => {
        allIn = resolve;
        expected = messages;
      });
      const started = performance.now();
      let next = 0;
      const worker = async () => {
        while (next < messages) {
          const i = next++;
          await pub.publish(
            `${BENCH_TOPIC_PREFIX}/${publisher.thingName}/${i % 16}`,
            payload,
            mqtt.QoS.AtLeastOnce,
          );
        }
      };
      await Promise.all(Array.from({ length: o.inFlight }, worker));
      await withTimeout(`delivering ${messages} messages`, 120_000, allDelivered);
      return (performance.now() - started) / 1000;
    };
    // warm-up: TLS sessions, subscriptions and the JIT in place before anything is timed
    await run(Math.min(o.messages, 2_000));
    const rates: number[] = [];
    const cpu: number[] = [];
    const clientCpu: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const own = process.cpuUsage();
      if (target.pid !== undefined && procAvailable()) {
        const m = await cpuDuring(target.pid, () => run(o.messages));
        rates.push(o.messages / m.value);
        cpu.push((m.cpuSeconds * 1000) / o.messages);
      } else {
        rates.push(o.messages / (await run(o.messages)));
      }
      const used = process.cpuUsage(own);
      clientCpu.push((used.user + used.system) / 1000 / o.messages);
    }
    return {
      messagesPerSecond: median(rates),
      ...(cpu.length > 0 ? { cpuMsPerMessage: median(cpu) } : {}),
      clientCpuMsPerMessage: median(clientCpu),
      delivered: o.messages,
      runs: RUNS,
    };
  } finally {
    await Promise.allSettled([pub.disconnect(), sub.disconnect()]);
  }
}

/** Connect + disconnect in sequence: connects per second, and the target's CPU per connect when known. */
export async function connectRate(
  target: BenchTarget,
  device: BenchDevice,
  connects: number,
): Promise<{ perSecond: number; cpuMsPerConnect?: number }> {
  // one warm connection first (process, TLS and JIT warm-up)
  await (await connectMqtt(target, device)).disconnect();
  const run = async () => {
    const started = performance.now();
    for (let i = 0; i < connects; i++) {
      const connection: mqtt.MqttClientConnection = await connectMqtt(target, device);
      await connection.disconnect();
    }
    return (performance.now() - started) / 1000;
  };
  if (target.pid === undefined || !procAvailable()) return { perSecond: connects / (await run()) };
  const m = await cpuDuring(target.pid, run);
  return { perSecond: connects / m.value, cpuMsPerConnect: (m.cpuSeconds * 1000) / connects };
}

/**
 * Connect + disconnect in sequence with the bare client (see the module header): connects per
 * second, and the target's CPU per connect when known.
 */
export async function bareConnectRate(
  target: BenchTarget,
  device: BenchDevice,
  connects: number,
): Promise<{ perSecond: number; cpuMsPerConnect?: number }> {
  await bareConnect(target, device);
  const run = async () => {
    const started = performance.now();
    for (let i = 0; i < connects; i++) await bareConnect(target, device);
    return (performance.now() - started) / 1000;
  };
  if (target.pid === undefined || !procAvailable()) return { perSecond: connects / (await run()) };
  const m = await cpuDuring(target.pid, run);
  return { perSecond: connects / m.value, cpuMsPerConnect: (m.cpuSeconds * 1000) / connects };
}

/** One bare connect: TLS handshake, CONNECT, CONNACK accepted, DISCONNECT, close. */
async function bareConnect(target: BenchTarget, device: BenchDevice): Promise<void> {
  const socket = tls.connect({
    host: target.mqttHost,
    port: target.mqttPort,
    ca: target.caPem,
    cert: device.certificatePem,
    key: device.privateKeyPem,
    ...(isIP(target.mqttHost) ? {} : { servername: target.mqttHost }),
  });
  let step = 'the TLS handshake';
  try {
    await withTimeout(step, 15_000, once(socket, 'secureConnect'));
    socket.setNoDelay(true);
    step = 'the CONNACK';
    socket.write(connectPacket(device.thingName));
    const [connack] = (await withTimeout(step, 15_000, once(socket, 'data'))) as [Buffer];
    if (connack[0] !== 0x20 || connack[3] !== 0) {
      throw new Error(`the CONNECT was refused: ${connack.subarray(0, 4).toString('hex')}`);
    }
    // The broker may reset the connection after a DISCONNECT rather than close it in turn:
    // any end will do (events.once would reject on the reset).
    socket.on('error', () => {});
    step = 'the close after DISCONNECT';
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.end(Buffer.from([0xe0, 0x00]));
    await withTimeout(step, 15_000, closed);
  } catch (err) {
    throw new Error(`bare connect of ${device.thingName}: ${step} failed: ${(err as Error).message}`);
  } finally {
    socket.destroy();
  }
}

/** The figures of one throughput run, named for the target. */
export function throughputMetrics(
  target: BenchTarget,
  r: ThroughputResult,
  o: { messages: number; payloadBytes: number; inFlight: number },
): Metric[] {
  const what = `${o.messages.toLocaleString('en-US')} x ${o.payloadBytes} B, ${o.inFlight} in flight`;
  return [
    {
      id: `${target.name}.qos1.messagesPerSecond`,
      metric: `${target.name}: QoS 1 publish -> subscriber, mTLS`,
      value: r.messagesPerSecond,
      unit: 'msg/s',
      note: `${what}; first publish to last delivery, median of ${r.runs} runs after a warm-up; the clients (device SDK publisher and subscriber, this process) used ${r.clientCpuMsPerMessage.toFixed(3)} ms of CPU per message`,
    },
    ...(r.cpuMsPerMessage === undefined
      ? []
      : [
          {
            id: `${target.name}.qos1.cpuMsPerMessage`,
            metric: `${target.name}: server CPU per message`,
            value: r.cpuMsPerMessage,
            unit: 'ms',
            note: 'user + system CPU of the server process tree during the run / messages',
          },
        ]),
  ];
}
