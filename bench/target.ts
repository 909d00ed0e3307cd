/**
 * What the comparison stages run against: any AWS-compatible endpoint (the local cloud in a
 * process of its own, or a peer such as MiniStack or LocalStack given by URL), reached only
 * through public APIs: the AWS SDK v3 for IoT and the Device Shadow, MQTT over mutual TLS with
 * the AWS IoT Device SDK v2. Devices are made through the IoT API as an operator would
 * (CreateThing, CreateKeysAndCertificate, CreatePolicy, AttachPolicy, AttachThingPrincipal), so
 * a peer needs nothing but those calls.
 */
import {
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CreateKeysAndCertificateCommand,
  CreatePolicyCommand,
  CreateThingCommand,
  IoTClient,
} from '@aws-sdk/client-iot';
import type { mqtt } from 'aws-iot-device-sdk-v2';
import { withTimeout } from './report';

export interface BenchTarget {
  /** For the figures' names: 'zonectl' or 'peer'. */
  readonly name: string;
  readonly apiEndpoint: string;
  readonly mqttHost: string;
  readonly mqttPort: number;
  /** The CA that signed the broker's server certificate. */
  readonly caPem: string;
  readonly region: string;
  /** The process tree whose CPU and memory are the target's, when the bench knows it. */
  readonly pid?: number;
}

export interface BenchDevice {
  readonly thingName: string;
  readonly certificateArn: string;
  readonly certificatePem: string;
  readonly privateKeyPem: string;
}

/** Any credentials: emulators route by the signing service and check no signature. */
const CREDENTIALS = { accessKeyId: 'bench', secretAccessKey: 'bench' };

export function clientConfig(target: BenchTarget) {
  return { endpoint: target.apiEndpoint, region: target.region, credentials: CREDENTIALS, maxAttempts: 1 };
}

export const BENCH_TOPIC_PREFIX = 'bench';

/**
 * The bench devices' policy: connect only as the attached thing, publish and receive on
 * `bench/...`, subscribe to `bench/...` filters. Policy variables and wildcards make the broker
 * evaluate it as it would a device policy; region and account are wildcards so one document
 * fits any endpoint.
 */
export function benchPolicyDocument(): string {
  const arn = (resource: string) => `arn:aws:iot:*:*:${resource}`;
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: 'iot:Connect', Resource: arn('client/${iot:Connection.Thing.ThingName}') },
      {
        Effect: 'Allow',
        Action: ['iot:Publish', 'iot:Receive'],
        Resource: [
          arn(`topic/${BENCH_TOPIC_PREFIX}/*`),
          arn('topic/$aws/things/${iot:Connection.Thing.ThingName}/shadow/*'),
        ],
      },
      { Effect: 'Allow', Action: 'iot:Subscribe', Resource: arn(`topicfilter/${BENCH_TOPIC_PREFIX}/*`) },
    ],
  });
}

/** Makes things with an ACTIVE certificate each, all with the bench policy (or the one given) attached. */
export async function provisionBenchDevices(
  target: BenchTarget,
  names: readonly string[],
  options: { policyName?: string; policyDocument?: string; concurrency?: number } = {},
): Promise<BenchDevice[]> {
  const iot = new IoTClient(clientConfig(target));
  const policyName = options.policyName ?? `zonectl-bench-${Date.now().toString(36)}`;
  try {
    await iot.send(
      new CreatePolicyCommand({
        policyName,
        policyDocument: options.policyDocument ?? benchPolicyDocument(),
      }),
    );
    const out: BenchDevice[] = new Array(names.length);
    let next = 0;
    const worker = async () => {
      while (next < names.length) {
        const i = next++;
        const thingName = names[i]!;
        await iot.send(new CreateThingCommand({ thingName }));
        const cert = await iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
        const certificateArn = cert.certificateArn!;
        await iot.send(new AttachPolicyCommand({ policyName, target: certificateArn }));
        await iot.send(new AttachThingPrincipalCommand({ thingName, principal: certificateArn }));
        out[i] = {
          thingName,
          certificateArn,
          certificatePem: cert.certificatePem!,
          privateKeyPem: cert.keyPair!.PrivateKey!,
        };
      }
    };
    await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 4, names.length) }, worker));
    return out;
  } finally {
    iot.destroy();
  }
}

/** One MQTT 3.1.1 connection over mutual TLS with the device's certificate, clean session. */
export async function connectMqtt(
  target: BenchTarget,
  device: BenchDevice,
  clientId = device.thingName,
): Promise<mqtt.MqttClientConnection> {
  const { iot, mqtt } = await import('aws-iot-device-sdk-v2');
  const config = iot.AwsIotMqttConnectionConfigBuilder.new_mtls_builder(
    device.certificatePem,
    device.privateKeyPem,
  )
    .with_certificate_authority(target.caPem)
    .with_endpoint(target.mqttHost)
    .with_port(target.mqttPort)
    .with_client_id(clientId)
    .with_clean_session(true)
    .with_keep_alive_seconds(60)
    .with_protocol_operation_timeout_ms(30_000)
    .build();
  const connection = sharedClient(mqtt).new_connection(config);
  await withTimeout(`connecting ${clientId}`, 15_000, connection.connect());
  return connection;
}

let client: mqtt.MqttClient | undefined;
/** One client (one event loop group and socket bootstrap) for all the bench's connections. */
function sharedClient(m: typeof mqtt): mqtt.MqttClient {
  client ??= new m.MqttClient();
  return client;
}
