import { z } from 'zod';
import { type BuildingConfig, type ComfortPolicy, devicesOf, thingKind, thingNamePrefix } from './building';
import { devicePolicyName, type IotPolicyDocument } from './device-policy';
import { THING_NAME_PATTERN } from './ids';
import { ACTUATOR_KINDS, type ActuatorKind, SENSOR_KINDS, type SensorKind } from './measures';
import { COMMAND_SHADOW_NAME } from './shadow';
import { THING_ATTRIBUTE, THING_KINDS, type ThingKind } from './thing-attributes';
import { describeIssues } from './validation';

/**
 * Fleet provisioning by claim, as data every layer shares: the names of a building's
 * provisioning template and claim policy, the template body the stack deploys, the claim
 * policy document, the device inventory the pre-provisioning hook decides from, the hook's
 * event and response, the device configuration a device gets back, and the MQTT topics.
 *
 * Follows the AWS IoT Developer Guide: "Provisioning templates" (Parameters, Resources,
 * DeviceConfiguration; a fleet template names the certificate by
 * `{"Ref": "AWS::IoT::Certificate::Id"}`), "Pre-provisioning hooks" (event and response,
 * payload version 2020-04-01), "Device provisioning MQTT API" (topics, payloads, errors) and
 * "Provisioning devices that don't have device certificates using fleet provisioning" (the
 * claim policy).
 *
 * LIMITATIONS (what AWS leaves open, and the choice made here):
 * - The hook's response has no field for a reason: AWS tells a refused device only that
 *   RegisterThing was denied. So the hook publishes its reason on the building's refusal topic
 *   for the requesting client (`refusalTopic`), which the claim policy lets only that client
 *   read; the device waits for it briefly after a rejection. This works the same on AWS.
 * - A template's name is at most 36 characters ([0-9A-Za-z_-]), so a fleet-provisioned
 *   building id is at most 28 characters (`zonectl-<buildingId>`).
 */

/** Payload version of the pre-provisioning hook event; the only one AWS defines. */
export const PRE_PROVISIONING_PAYLOAD_VERSION = '2020-04-01';

/** AWS IoT limits a provisioning template name to 36 characters of [0-9A-Za-z_-]. */
export const MAX_TEMPLATE_NAME_LENGTH = 36;
export const TEMPLATE_NAME_PATTERN = /^[0-9A-Za-z_-]{1,36}$/;
/** AWS IoT limits a provisioning template body to 10,240 characters. */
export const MAX_TEMPLATE_BODY_CHARS = 10_240;

/** The building's fleet provisioning template: `zonectl-<buildingId>`. */
export const provisioningTemplateName = (buildingId: string): string => `zonectl-${buildingId}`;

/** The IoT policy attached to a building's claim certificates. */
export const claimPolicyName = (buildingId: string): string => `zonectl-${buildingId}-claim`;

/**
 * Client ids a claim certificate may connect with: `zonectl.claim.<buildingId>.<anything>`.
 * A thing name never contains '.', so a claim connection can never take over a device's
 * connection by using its client id.
 */
export const claimClientIdPrefix = (buildingId: string): string => `zonectl.claim.${buildingId}.`;

/**
 * Where the building's pre-provisioning hook publishes why it refused a device, for the claim
 * connection `clientId` that asked (the hook event carries it). Only that client may read it.
 */
export const refusalTopic = (buildingId: string, clientId: string): string =>
  `zonectl/${buildingId}/provisioning/${clientId}/refusal`;

/** MQTT topics of the provisioning API (AWS IoT Developer Guide, "Device provisioning MQTT API"). */
export const PROVISIONING_TOPICS = {
  createFromCsr: '$aws/certificates/create-from-csr/json',
  createKeysAndCertificate: '$aws/certificates/create/json',
  registerThing: (templateName: string) => `$aws/provisioning-templates/${templateName}/provision/json`,
} as const;

/** Template parameters a device passes to RegisterThing, and those the hook adds. */
export const TEMPLATE_PARAMETER = {
  /** The device's thing name (required). */
  thingName: 'ThingName',
  /** The zone the installer put the device in; optional, the hook checks it against the inventory. */
  zone: 'Zone',
  /** Set by the hook from the inventory. */
  kind: 'Kind',
  senses: 'Senses',
  drives: 'Drives',
} as const;
/** The fleet template's reserved parameter: the id of the certificate whose ownership token was presented. */
export const CERTIFICATE_ID_PARAMETER = 'AWS::IoT::Certificate::Id';

/** Keys of the device configuration RegisterThing returns (all values are strings). */
export const DEVICE_CONFIGURATION_KEY = {
  building: 'building',
  zone: 'zone',
  senses: 'senses',
  drives: 'drives',
  commandShadow: 'commandShadow',
  minTemperature: 'minTemperature',
  maxTemperature: 'maxTemperature',
  temperatureHysteresis: 'temperatureHysteresis',
  co2Limit: 'co2Limit',
  co2HighLimit: 'co2HighLimit',
} as const;

/** The limits a device's fallback loop keeps, from the building's comfort policy. */
export interface FallbackSafety {
  readonly minTemperature: number;
  readonly maxTemperature: number;
  readonly temperatureHysteresis: number;
  readonly co2Limit: number;
  readonly co2HighLimit: number;
}

export function fallbackSafetyOf(comfort: ComfortPolicy): FallbackSafety {
  return {
    minTemperature: comfort.unoccupiedSetpoint,
    maxTemperature: comfort.occupiedSetpoint + comfort.comfortBand,
    temperatureHysteresis: comfort.temperatureHysteresis,
    co2Limit: comfort.co2Limit,
    co2HighLimit: comfort.co2HighLimit,
  };
}

// ---- the template --------------------------------------------------------------------------

const ref = (name: string) => ({ Ref: name });

/**
 * The fleet provisioning template body: a thing named by the device with the building, zone
 * and kind attributes the device policy reads (zone and kind as the hook set them from the
 * inventory), the certificate made from the device's CSR set ACTIVE, the building's device
 * policy attached by name, and the device configuration the device writes its bundle from.
 * Uses only what "Provisioning templates" documents (Parameters, Ref, literal values).
 */
export function provisioningTemplateBody(config: BuildingConfig): Record<string, unknown> {
  const P = TEMPLATE_PARAMETER;
  const K = DEVICE_CONFIGURATION_KEY;
  const safety = fallbackSafetyOf(config.comfort);
  return {
    Parameters: {
      [P.thingName]: { Type: 'String' },
      [P.zone]: { Type: 'String' },
      [P.kind]: { Type: 'String' },
      [P.senses]: { Type: 'String', Default: '' },
      [P.drives]: { Type: 'String', Default: '' },
      [CERTIFICATE_ID_PARAMETER]: { Type: 'String' },
    },
    Resources: {
      thing: {
        Type: 'AWS::IoT::Thing',
        Properties: {
          ThingName: ref(P.thingName),
          AttributePayload: {
            [THING_ATTRIBUTE.building]: config.buildingId,
            [THING_ATTRIBUTE.zone]: ref(P.zone),
            [THING_ATTRIBUTE.kind]: ref(P.kind),
          },
        },
        // A device that provisions again (same thing, the hook allowed it) keeps its thing.
        OverrideSettings: { AttributePayload: 'REPLACE' },
      },
      certificate: {
        Type: 'AWS::IoT::Certificate',
        Properties: { CertificateId: ref(CERTIFICATE_ID_PARAMETER), Status: 'ACTIVE' },
      },
      policy: {
        Type: 'AWS::IoT::Policy',
        Properties: { PolicyName: devicePolicyName(config.buildingId) },
      },
    },
    DeviceConfiguration: {
      [K.building]: config.buildingId,
      [K.zone]: ref(P.zone),
      [K.senses]: ref(P.senses),
      [K.drives]: ref(P.drives),
      [K.commandShadow]: COMMAND_SHADOW_NAME,
      [K.minTemperature]: String(safety.minTemperature),
      [K.maxTemperature]: String(safety.maxTemperature),
      [K.temperatureHysteresis]: String(safety.temperatureHysteresis),
      [K.co2Limit]: String(safety.co2Limit),
      [K.co2HighLimit]: String(safety.co2HighLimit),
    },
  };
}

// ---- the claim policy ----------------------------------------------------------------------

/**
 * What a claim certificate may do: connect with a claim client id of this building, make a
 * certificate from its own CSR, register through this building's template, and read the
 * replies and its own refusal topic. Nothing else: no CreateKeysAndCertificate (private keys
 * are made on the device), no other template, no telemetry, no shadows.
 * Publish and Receive take `topic/` ARNs, Subscribe `topicfilter/` ARNs (AWS IoT Developer
 * Guide, "AWS IoT Core policy actions"); `create-from-csr` is named on its own, because
 * `$aws/certificates/create/*` does not cover it.
 */
export function claimPolicyDocument(
  buildingId: string,
  arnOf: (resource: string) => string,
): IotPolicyDocument {
  const csr = PROVISIONING_TOPICS.createFromCsr;
  const register = PROVISIONING_TOPICS.registerThing(provisioningTemplateName(buildingId));
  const refusal = refusalTopic(buildingId, '${iot:ClientId}');
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'ConnectAsClaimClient',
        Effect: 'Allow',
        Action: 'iot:Connect',
        Resource: arnOf(`client/${claimClientIdPrefix(buildingId)}*`),
      },
      {
        Sid: 'RequestCertificateAndRegistration',
        Effect: 'Allow',
        Action: 'iot:Publish',
        Resource: [arnOf(`topic/${csr}`), arnOf(`topic/${register}`)],
      },
      {
        Sid: 'SubscribeReplies',
        Effect: 'Allow',
        Action: 'iot:Subscribe',
        Resource: [
          arnOf(`topicfilter/${csr}/*`),
          arnOf(`topicfilter/${register}/*`),
          arnOf(`topicfilter/${refusal}`),
        ],
      },
      {
        Sid: 'ReceiveReplies',
        Effect: 'Allow',
        Action: 'iot:Receive',
        Resource: [arnOf(`topic/${csr}/*`), arnOf(`topic/${register}/*`), arnOf(`topic/${refusal}`)],
      },
    ],
  };
}

// ---- the inventory the hook decides from ---------------------------------------------------

/** The file name of the provisioning inventory in the hook's asset. */
export const PROVISIONING_INVENTORY_FILE = 'provisioning-inventory.json';

export const InventoryDeviceSchema = z
  .object({
    zone: z.string().min(1),
    kind: z.enum(THING_KINDS),
    senses: z.array(z.enum(SENSOR_KINDS)),
    drives: z.array(z.enum(ACTUATOR_KINDS)),
  })
  .strict();

export const ProvisioningInventorySchema = z
  .object({
    v: z.literal(1),
    building: z.string().min(1),
    /** Every device of the building by thing name. */
    devices: z.record(z.string(), InventoryDeviceSchema),
  })
  .strict();

export type InventoryDevice = z.output<typeof InventoryDeviceSchema>;
export type ProvisioningInventory = z.output<typeof ProvisioningInventorySchema>;

export function provisioningInventoryOf(config: BuildingConfig): ProvisioningInventory {
  const devices: Record<string, InventoryDevice> = {};
  for (const d of devicesOf(config)) {
    devices[d.thing] = { zone: d.zone, kind: thingKind(d), senses: [...d.senses], drives: [...d.drives] };
  }
  return { v: 1, building: config.buildingId, devices };
}

export function parseProvisioningInventory(text: string): ProvisioningInventory {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`provisioning inventory is not valid JSON (${(error as Error).message})`);
  }
  const parsed = ProvisioningInventorySchema.safeParse(json);
  if (!parsed.success) {
    throw new Error(describeIssues(parsed.error, json, 'provisioning inventory').join('; '));
  }
  return parsed.data;
}

// ---- the hook's event and response ---------------------------------------------------------

/** The event AWS IoT invokes a pre-provisioning hook with (AWS IoT Developer Guide, "Pre-provisioning hooks"). */
export const PreProvisioningHookEventSchema = z
  .object({
    claimCertificateId: z.string(),
    certificateId: z.string(),
    certificatePem: z.string(),
    templateArn: z.string(),
    clientId: z.string(),
    parameters: z.record(z.string(), z.string()).default({}),
  })
  .passthrough();
export type PreProvisioningHookEvent = z.output<typeof PreProvisioningHookEventSchema>;

/** The hook's answer: only these two fields exist; anything but `allowProvisioning: true` refuses. */
export interface PreProvisioningHookResponse {
  readonly allowProvisioning: boolean;
  readonly parameterOverrides?: Readonly<Record<string, string>>;
}

/** A rejection on a provisioning `.../rejected` topic (AWS IoT Developer Guide, "Device provisioning MQTT API"). */
export interface ProvisioningErrorResponse {
  readonly statusCode: number;
  readonly errorCode: string;
  readonly errorMessage: string;
}

/** The message the hook publishes on the refusal topic. */
export interface ProvisioningRefusal {
  readonly thing: string;
  readonly reason: string;
  readonly at: number;
}

// ---- the device configuration a device gets back ------------------------------------------

export interface ProvisionedDevice {
  readonly building: string;
  readonly zone: string;
  readonly senses: SensorKind[];
  readonly drives: ActuatorKind[];
  readonly kind: ThingKind;
  readonly commandShadow: string;
  readonly safety: FallbackSafety;
}

const list = <T extends string>(value: string | undefined, allowed: readonly T[], what: string): T[] => {
  const items = (value ?? '').split(',').filter((s) => s !== '');
  for (const item of items) {
    if (!(allowed as readonly string[]).includes(item)) {
      throw new Error(`device configuration: ${what} '${item}' is not one of ${allowed.join(', ')}`);
    }
  }
  return items as T[];
};

const number = (config: Readonly<Record<string, string>>, key: string): number => {
  const value = Number(config[key]);
  if (config[key] === undefined || !Number.isFinite(value)) {
    throw new Error(`device configuration: ${key} is ${config[key] ?? 'missing'}; expected a number`);
  }
  return value;
};

/** Reads RegisterThing's device configuration; throws naming the key that is missing or wrong. */
export function parseDeviceConfiguration(config: Readonly<Record<string, string>>): ProvisionedDevice {
  const K = DEVICE_CONFIGURATION_KEY;
  for (const key of [K.building, K.zone, K.commandShadow]) {
    if (!config[key]) throw new Error(`device configuration: ${key} is missing`);
  }
  const senses = list(config[K.senses], SENSOR_KINDS, 'sensor kind');
  const drives = list(config[K.drives], ACTUATOR_KINDS, 'actuator kind');
  if (senses.length + drives.length === 0) {
    throw new Error('device configuration: the device neither senses nor drives anything');
  }
  return {
    building: config[K.building]!,
    zone: config[K.zone]!,
    senses,
    drives,
    kind: thingKind({ senses, drives }),
    commandShadow: config[K.commandShadow]!,
    safety: {
      minTemperature: number(config, K.minTemperature),
      maxTemperature: number(config, K.maxTemperature),
      temperatureHysteresis: number(config, K.temperatureHysteresis),
      co2Limit: number(config, K.co2Limit),
      co2HighLimit: number(config, K.co2HighLimit),
    },
  };
}

/** Why a thing name cannot be registered in the building, or undefined when its form is fine. */
export function thingNameProblem(thing: string | undefined, buildingId: string): string | undefined {
  if (thing === undefined || thing === '') {
    return `the ${TEMPLATE_PARAMETER.thingName} parameter is missing; pass the device's thing name`;
  }
  if (!THING_NAME_PATTERN.test(thing)) {
    return `'${thing.slice(0, 140)}' is not a thing name (letters, digits, '-' or '_', 1-128 characters)`;
  }
  if (!thing.startsWith(thingNamePrefix(buildingId))) {
    return `'${thing}' is not a thing of building '${buildingId}': its things are named '${thingNamePrefix(buildingId)}...'`;
  }
  return undefined;
}
