/**
 * MQTT topics. Telemetry follows the AWS-recommended `dt/<application>/<context...>/<thing>/<type>`
 * layout, one topic per thing: `dt/zonectl/<building>/<zone>/<thing>/readings`.
 */

export const APPLICATION = 'zonectl';

export interface ThingAddress {
  readonly building: string;
  readonly zone: string;
  readonly thing: string;
}

/** 1-based topic levels, as the IoT SQL `topic(n)` function counts them. */
export const TELEMETRY_TOPIC_LEVEL = { building: 3, zone: 4, thing: 5 } as const;

export function telemetryTopic(address: ThingAddress): string {
  return `dt/${APPLICATION}/${address.building}/${address.zone}/${address.thing}/readings`;
}

/**
 * The telemetry of one building, every zone and thing: a building's rules name their own
 * building, so two buildings in one account never read each other's readings.
 */
export function telemetryTopicFilter(buildingId: string): string {
  return `dt/${APPLICATION}/${buildingId}/+/+/readings`;
}

/** Parses a telemetry topic back into its address, or returns undefined if it is not one. */
export function parseTelemetryTopic(topic: string): ThingAddress | undefined {
  const parts = topic.split('/');
  if (parts.length !== 6 || parts[0] !== 'dt' || parts[1] !== APPLICATION || parts[5] !== 'readings') {
    return undefined;
  }
  const [, , building, zone, thing] = parts;
  if (!building || !zone || !thing) return undefined;
  return { building, zone, thing };
}

/**
 * The telemetry topic as an IoT policy resource, built from policy variables so a device can
 * publish only as itself and only into the zone its thing attributes say it is in.
 */
export const TELEMETRY_TOPIC_POLICY_TEMPLATE = `dt/${APPLICATION}/\${iot:Connection.Thing.Attributes[building]}/\${iot:Connection.Thing.Attributes[zone]}/\${iot:Connection.Thing.ThingName}/readings`;

/** Device Shadow service topic prefix: classic shadow when shadowName is omitted. */
export function shadowTopicPrefix(thing: string, shadowName?: string): string {
  return shadowName === undefined
    ? `$aws/things/${thing}/shadow`
    : `$aws/things/${thing}/shadow/name/${shadowName}`;
}

export const SHADOW_OPERATIONS = ['get', 'update', 'delete'] as const;
export type ShadowOperation = (typeof SHADOW_OPERATIONS)[number];

/** Lifecycle events AWS IoT publishes when a client connects or disconnects. */
export function presenceTopic(event: 'connected' | 'disconnected', clientId: string): string {
  return `$aws/events/presence/${event}/${clientId}`;
}

/** IoT policy variable for the connected client's thing name (IoT Developer Guide, "Thing policy variables"). */
export const THING_NAME_VARIABLE = '${iot:Connection.Thing.ThingName}';

/** Command shadow topics a device publishes to (requests to the Device Shadow service). */
export const COMMAND_SHADOW_REQUESTS = ['get', 'update'] as const;

/**
 * Command shadow response topics a device subscribes to, as IoT policy resource patterns
 * under its own shadow's prefix. `*` keeps them to that one shadow's get and update responses
 * (accepted, rejected, delta, documents) while the policy stays under AWS IoT's 2048-character
 * document limit; listing the six topics one by one for Subscribe and Receive exceeds it.
 */
export const COMMAND_SHADOW_RESPONSE_PATTERNS = ['get/*', 'update/*'] as const;

/** AWS IoT Core limit on a policy document, counted without whitespace. */
export const MAX_IOT_POLICY_CHARACTERS = 2048;
