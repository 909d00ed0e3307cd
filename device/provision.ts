/**
 * A device's first boot with a claim (AWS IoT Developer Guide, "Provisioning devices that don't
 * have device certificates using fleet provisioning" and "Device provisioning MQTT API"): one
 * mutual-TLS MQTT 3.1.1 connection with the claim certificate, over which the SDK's
 * `iotidentity.IotIdentityClientv2` asks CreateCertificateFromCsr (for a CSR made on the device:
 * the private key never leaves it) and RegisterThing through the building's template.
 *
 * AWS's rejection of a refused RegisterThing carries no reason, so before asking, the client
 * subscribes to its refusal topic (contracts `refusalTopic`), where the building's
 * pre-provisioning hook publishes why; after a rejection it waits briefly for that message.
 *
 * The claim file (`claim.json`, written by `zonectl claim create`) holds the claim certificate
 * and key, the broker and its CA, the building and its template name.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { iot, iotidentity, mqtt, mqtt_request_response } from 'aws-iot-device-sdk-v2';
import { z } from 'zod';
import { claimClientIdPrefix, describeIssues, type ProvisioningRefusal, refusalTopic } from '../contracts';
import { explainConnectionError } from './connection';

export const CLAIM_FILE = 'claim.json';

const pem = (label: string) =>
  z.string().regex(new RegExp(`-----BEGIN [A-Z ]*${label}-----`), { message: `a PEM ${label}` });

export const ClaimSchema = z
  .object({
    v: z.literal(1),
    target: z.enum(['aws', 'local']),
    building: z.string().min(1),
    templateName: z.string().min(1),
    endpoint: z.object({ host: z.string().min(1), port: z.number().int().min(1).max(65535) }).strict(),
    certificateId: z.string().min(1),
    certificatePem: pem('CERTIFICATE'),
    privateKeyPem: pem('PRIVATE KEY'),
    caPem: pem('CERTIFICATE'),
    region: z.string().optional(),
    createdAt: z.string().optional(),
  })
  .strict();
export type Claim = z.output<typeof ClaimSchema>;

export class ClaimError extends Error {
  override readonly name = 'ClaimError';
}

/** Reads `<dir>/claim.json`; says what to do when it is missing or not a claim. */
export function loadClaim(dir: string): Claim {
  const path = join(dir, CLAIM_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ClaimError(
      `No claim at ${path} (${(err as NodeJS.ErrnoException).code}): ask the operator for the building's claim (zonectl claim create) and pass its folder with --claim.`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ClaimError(
      `The claim ${path} is not valid JSON (${(err as Error).message}); ask for a new one.`,
    );
  }
  const parsed = ClaimSchema.safeParse(json);
  if (!parsed.success) {
    throw new ClaimError(
      `The claim ${path} is not a claim:\n  - ${describeIssues(parsed.error, json, 'claim').join('\n  - ')}`,
    );
  }
  return parsed.data;
}

/** The cloud refused a step: the status and code AWS sent, and the hook's reason if one came. */
export class ProvisioningRefusedError extends Error {
  override readonly name = 'ProvisioningRefusedError';
  constructor(
    readonly step: 'CreateCertificateFromCsr' | 'RegisterThing',
    readonly statusCode: number | undefined,
    readonly errorCode: string,
    readonly errorMessage: string,
    /** Why the building's pre-provisioning hook refused, from the refusal topic. */
    readonly reason?: string,
  ) {
    super(
      reason
        ? `${step} was refused: ${reason} (the cloud answered ${statusCode ?? '?'} ${errorCode})`
        : `${step} was refused: ${statusCode ?? '?'} ${errorCode}: ${errorMessage}`,
    );
  }
}

/** The broker could not be reached or refused the claim connection. */
export class ProvisioningConnectionError extends Error {
  override readonly name = 'ProvisioningConnectionError';
}

export interface ClaimSessionOptions {
  /** Overrides the claim's endpoint (tests, a device behind a proxy). */
  readonly endpoint?: { readonly host: string; readonly port: number };
  /** How long one request may wait for its answer, s. Default 30 (the hook alone may take 5). */
  readonly operationTimeoutSec?: number;
  /** How long to wait for the hook's reason after a refusal, ms. Default 2,000. */
  readonly reasonWaitMs?: number;
}

/**
 * One claim connection. Use `open`, then `createCertificateFromCsr` and `registerThing`, then
 * `close` (always: it frees the native connection).
 */
export class ClaimSession {
  private readonly refusals: ProvisioningRefusal[] = [];
  private readonly waiters: Array<() => void> = [];

  private constructor(
    private readonly claim: Claim,
    private readonly connection: mqtt.MqttClientConnection,
    private readonly identity: iotidentity.IotIdentityClientv2,
    private readonly options: ClaimSessionOptions,
  ) {}

  static async open(claim: Claim, options: ClaimSessionOptions = {}): Promise<ClaimSession> {
    const endpoint = options.endpoint ?? claim.endpoint;
    const clientId = `${claimClientIdPrefix(claim.building)}${randomUUID()}`;
    const config = iot.AwsIotMqttConnectionConfigBuilder.new_mtls_builder(
      claim.certificatePem,
      claim.privateKeyPem,
    )
      .with_certificate_authority(claim.caPem)
      .with_endpoint(endpoint.host)
      .with_port(endpoint.port)
      .with_client_id(clientId)
      .with_clean_session(true)
      .with_keep_alive_seconds(30)
      .with_ping_timeout_ms(5_000)
      .with_protocol_operation_timeout_ms(20_000)
      .build();
    const connection = new mqtt.MqttClient().new_connection(config);
    // A failed connect also emits 'error'; without a listener it would be thrown as unhandled.
    connection.on('error', () => undefined);
    try {
      await connection.connect();
    } catch (err) {
      await connection.disconnect().catch(() => undefined);
      const why = explainConnectionError(err, { host: endpoint.host, port: endpoint.port, clientId });
      throw new ProvisioningConnectionError(
        /refused the connection/.test(why)
          ? `The broker refused the claim (certificate ${claim.certificateId.slice(0, 12)}): it is revoked, inactive or not the building's claim. Ask the operator for a new claim (zonectl claim create).`
          : `Cannot reach the broker with the claim: ${why}`,
      );
    }
    let identity: iotidentity.IotIdentityClientv2 | undefined;
    try {
      identity = iotidentity.IotIdentityClientv2.newFromMqtt311(connection, {
        maxRequestResponseSubscriptions: 2,
        maxStreamingSubscriptions: 1,
        operationTimeoutInSeconds: options.operationTimeoutSec ?? 30,
      });
      const session = new ClaimSession(claim, connection, identity, options);
      await connection.subscribe(
        refusalTopic(claim.building, clientId),
        mqtt.QoS.AtLeastOnce,
        (_topic, payload) => {
          try {
            session.refusals.push(JSON.parse(Buffer.from(payload).toString('utf8')) as ProvisioningRefusal);
          } catch {
            // not a refusal message; ignore it
          }
          for (const wake of session.waiters.splice(0)) wake();
        },
      );
      return session;
    } catch (err) {
      identity?.close();
      await connection.disconnect().catch(() => undefined);
      throw new ProvisioningConnectionError(
        `The claim connection could not subscribe: ${(err as Error).message}`,
      );
    }
  }

  async createCertificateFromCsr(
    csrPem: string,
  ): Promise<{ certificateId: string; certificatePem: string; ownershipToken: string }> {
    try {
      const out = await this.identity.createCertificateFromCsr({ certificateSigningRequest: csrPem });
      if (!out.certificateId || !out.certificatePem || !out.certificateOwnershipToken) {
        throw new ProvisioningRefusedError(
          'CreateCertificateFromCsr',
          undefined,
          'IncompleteAnswer',
          'the answer lacks a field',
        );
      }
      return {
        certificateId: out.certificateId,
        certificatePem: out.certificatePem,
        ownershipToken: out.certificateOwnershipToken,
      };
    } catch (err) {
      throw this.refusal('CreateCertificateFromCsr', err);
    }
  }

  async registerThing(
    ownershipToken: string,
    parameters: Record<string, string>,
  ): Promise<{ thingName: string; deviceConfiguration: Record<string, string> }> {
    try {
      const out = await this.identity.registerThing({
        templateName: this.claim.templateName,
        certificateOwnershipToken: ownershipToken,
        parameters,
      });
      return {
        thingName: out.thingName ?? parameters.ThingName ?? '',
        deviceConfiguration: out.deviceConfiguration ?? {},
      };
    } catch (err) {
      const refused = this.refusal('RegisterThing', err);
      if (!(refused instanceof ProvisioningRefusedError) || refused.statusCode !== 403) throw refused;
      const reason = await this.reasonFor(parameters.ThingName ?? '');
      return Promise.reject(
        reason
          ? new ProvisioningRefusedError(
              'RegisterThing',
              refused.statusCode,
              refused.errorCode,
              refused.errorMessage,
              reason,
            )
          : refused,
      );
    }
  }

  /** The hook's reason for this thing, waiting up to `reasonWaitMs` for it to arrive. */
  private async reasonFor(thing: string): Promise<string | undefined> {
    const find = () => this.refusals.find((r) => r.thing === thing || r.thing === '')?.reason;
    const deadline = Date.now() + (this.options.reasonWaitMs ?? 2_000);
    while (find() === undefined && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return find();
  }

  private refusal(step: 'CreateCertificateFromCsr' | 'RegisterThing', err: unknown): Error {
    if (err instanceof ProvisioningRefusedError) return err;
    if (err instanceof mqtt_request_response.ServiceError) {
      const modeled = err.modeledError as
        | { statusCode?: number; errorCode?: string; errorMessage?: string }
        | undefined;
      if (modeled?.errorCode) {
        return new ProvisioningRefusedError(
          step,
          modeled.statusCode,
          modeled.errorCode,
          modeled.errorMessage ?? '',
        );
      }
      return new ProvisioningConnectionError(
        `${step} got no answer (${err.internalError?.error_name ?? err.message}): check the network and that the claim's template exists`,
      );
    }
    return err instanceof Error ? err : new Error(String(err));
  }

  async close(): Promise<void> {
    this.identity.close();
    await this.connection.disconnect().catch(() => undefined);
  }
}
