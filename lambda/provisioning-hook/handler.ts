import { X509Certificate } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import {
  DescribeCertificateCommand,
  IoTClient,
  ListThingPrincipalsCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-iot';
import { IoTDataPlaneClient, PublishCommand } from '@aws-sdk/client-iot-data-plane';
import type { Context } from 'aws-lambda';
import {
  describeIssues,
  ENV,
  type PreProvisioningHookEvent,
  PreProvisioningHookEventSchema,
  type PreProvisioningHookResponse,
  type ProvisioningInventory,
  type ProvisioningRefusal,
  parseProvisioningInventory,
  refusalTopic,
} from '../../contracts';
import { readConfigFile } from '../shared/config-file';
import { iotDataClientConfig } from '../shared/iot-data-endpoint';
import { type AttachedCertificate, decide, thingOf } from './decide';

/**
 * The building's pre-provisioning hook (AWS IoT Developer Guide, "Pre-provisioning hooks"):
 * AWS IoT invokes it synchronously on every RegisterThing through the building's template and
 * must have its answer within 5 seconds. The decision is in decide.ts; this adapter reads the
 * certificates attached to the thing (ListThingPrincipals, DescribeCertificate) and, on a
 * refusal, logs the reason and publishes it on the building's refusal topic for the
 * requesting client, because the hook's response cannot carry a reason to the device.
 *
 * A malformed event or a failed lookup refuses (AWS treats a hook error as a refusal anyway);
 * the reason is logged either way.
 */

export interface HookDeps {
  readonly inventory: ProvisioningInventory;
  /** The certificates attached to a thing; an unknown thing has none. */
  attachedCertificates(thing: string, certificatePem: string): Promise<AttachedCertificate[]>;
  /** Publishes the refusal message for the device; failures are logged, never thrown. */
  publishRefusal(topic: string, refusal: ProvisioningRefusal): Promise<void>;
  readonly logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  readonly now?: () => number;
}

export type HookHandler = (event: unknown, context?: Context) => Promise<PreProvisioningHookResponse>;

export function createHookHandler(deps: HookDeps): HookHandler {
  const { logger, inventory } = deps;
  const refuse = async (
    clientId: string | undefined,
    thing: string | undefined,
    reason: string,
    extra: Record<string, unknown> = {},
  ): Promise<PreProvisioningHookResponse> => {
    logger.warn('provisioning refused', { building: inventory.building, thing, clientId, reason, ...extra });
    if (clientId) {
      await deps
        .publishRefusal(refusalTopic(inventory.building, clientId), {
          thing: thing ?? '',
          reason,
          at: (deps.now ?? Date.now)(),
        })
        .catch((error: unknown) =>
          logger.error('refusal not published to the device', { clientId, error: (error as Error).message }),
        );
    }
    return { allowProvisioning: false };
  };

  return async (input) => {
    const parsed = PreProvisioningHookEventSchema.safeParse(input);
    if (!parsed.success) {
      const clientId = (input as { clientId?: unknown } | null)?.clientId;
      return refuse(
        typeof clientId === 'string' ? clientId : undefined,
        undefined,
        `malformed provisioning request: ${describeIssues(parsed.error, input, 'event').join('; ')}`,
      );
    }
    const event: PreProvisioningHookEvent = parsed.data;
    const found = thingOf(event, inventory);
    let attached: AttachedCertificate[] = [];
    if (!('reason' in found)) {
      try {
        attached = await deps.attachedCertificates(found.thing, event.certificatePem);
      } catch (error) {
        return refuse(
          event.clientId,
          found.thing,
          `the hook could not read the certificates of '${found.thing}' (${(error as Error).name}); try again`,
          { error: (error as Error).message },
        );
      }
    }
    const decision = decide(event, inventory, attached);
    if (!decision.allow) {
      return refuse(event.clientId, decision.thing, decision.reason, { certificateId: event.certificateId });
    }
    logger.info('provisioning allowed', {
      building: inventory.building,
      thing: decision.thing,
      clientId: event.clientId,
      certificateId: event.certificateId,
      zone: decision.parameterOverrides.Zone,
    });
    return { allowProvisioning: true, parameterOverrides: decision.parameterOverrides };
  };
}

/** DER SubjectPublicKeyInfo of a PEM certificate, or undefined when it cannot be read. */
function publicKeyOf(pem: string): Buffer | undefined {
  try {
    return new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' });
  } catch {
    return undefined;
  }
}

/** The certificates attached to a thing, with their status and whether they hold the same key. */
export async function attachedCertificatesOf(
  iot: IoTClient,
  thing: string,
  certificatePem: string,
): Promise<AttachedCertificate[]> {
  const principals: string[] = [];
  let nextToken: string | undefined;
  try {
    do {
      const page = await iot.send(new ListThingPrincipalsCommand({ thingName: thing, nextToken }));
      principals.push(...(page.principals ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return [];
    throw error;
  }
  const key = publicKeyOf(certificatePem);
  const out: AttachedCertificate[] = [];
  for (const principal of principals) {
    const certificateId = /:cert\/([0-9a-f]{64})$/i.exec(principal)?.[1];
    if (!certificateId) continue;
    const described = await iot.send(new DescribeCertificateCommand({ certificateId }));
    const description = described.certificateDescription;
    const theirs = description?.certificatePem ? publicKeyOf(description.certificatePem) : undefined;
    out.push({
      certificateId,
      status: description?.status ?? 'UNKNOWN',
      sameKey: key !== undefined && theirs !== undefined && key.equals(theirs),
    });
  }
  return out;
}

/** Builds the handler from the function's environment and asset, once per execution environment. */
export function createHookHandlerFromEnv(env: NodeJS.ProcessEnv = process.env): HookHandler {
  const serviceName = env[ENV.powertoolsServiceName] || 'zonectl-provisioning-hook';
  const logger = new Logger({ serviceName });
  const inventory = parseProvisioningInventory(readConfigFile(env));
  const iot = new IoTClient({ maxAttempts: 2 });
  const data = new IoTDataPlaneClient({ ...iotDataClientConfig(env), maxAttempts: 2 });
  return createHookHandler({
    inventory,
    logger,
    attachedCertificates: (thing, pem) => attachedCertificatesOf(iot, thing, pem),
    publishRefusal: async (topic, refusal) => {
      await data.send(new PublishCommand({ topic, qos: 1, payload: Buffer.from(JSON.stringify(refusal)) }));
    },
  });
}

let fromEnv: HookHandler | undefined;

export const handler: HookHandler = (event, context) => {
  fromEnv ??= createHookHandlerFromEnv();
  return fromEnv(event, context);
};
