/**
 * The Device Shadow MQTT API (AWS IoT Core Developer Guide, "Device Shadow MQTT topics"): a
 * request on `$aws/things/<thing>/shadow[/name/<shadow>]/get|update|delete` is answered on
 * `.../accepted`, or with an error document on `.../rejected` that echoes the request's
 * clientToken ("Device Shadow error messages"). A request never throws: an unexpected failure
 * is logged and answered with a 500 error document.
 */
import { SHADOW_OPERATIONS, type ShadowOperation, shadowTopicPrefix } from '../../contracts';
import { errorText, type LocalLogger } from '../common';
import { errorDocument, parseJson, parseTokenOnly, validateClientToken } from './document';
import { ShadowError } from './errors';

/**
 * Splits `$aws/things/<thing>/shadow[/name/<shadow>]/<rest...>` into the thing, the shadow and
 * the levels after it; undefined for any other topic.
 */
function splitShadowTopic(
  topic: string,
): { thingName: string; shadowName?: string; rest: string[] } | undefined {
  const parts = topic.split('/');
  const thingName = parts[2];
  if (parts[0] !== '$aws' || parts[1] !== 'things' || parts[3] !== 'shadow' || !thingName) return undefined;
  if (parts[4] !== 'name') return { thingName, rest: parts.slice(4) };
  return parts[5] ? { thingName, shadowName: parts[5], rest: parts.slice(6) } : undefined;
}

const isOperation = (s: string | undefined): s is ShadowOperation =>
  s !== undefined && (SHADOW_OPERATIONS as readonly string[]).includes(s);

/** Parses `$aws/things/<thing>/shadow[/name/<shadow>]/<op>`; undefined for response topics. */
export function parseShadowRequestTopic(
  topic: string,
): { thingName: string; shadowName?: string; operation: ShadowOperation } | undefined {
  const split = splitShadowTopic(topic);
  const operation = split?.rest.length === 1 ? split.rest[0] : undefined;
  if (!split || !isOperation(operation)) return undefined;
  const { thingName, shadowName } = split;
  return { thingName, ...(shadowName ? { shadowName } : {}), operation };
}

/**
 * Parses a response topic, `$aws/things/<thing>/shadow[/name/<shadow>]/<op>/<result>` (such as
 * `update/accepted`); undefined for any other topic.
 */
export function parseShadowResponseTopic(
  topic: string,
): { thingName: string; shadowName?: string; suffix: string } | undefined {
  const split = splitShadowTopic(topic);
  if (split?.rest.length !== 2) return undefined;
  const { thingName, shadowName, rest } = split;
  return { thingName, ...(shadowName ? { shadowName } : {}), suffix: rest.join('/') };
}

/** The shadow operations an MQTT request runs; update and delete announce their own results. */
export interface ShadowOperations {
  get(thingName: string, shadowName: string | undefined, clientToken?: string): object;
  update(thingName: string, shadowName: string | undefined, payload: Buffer): Promise<object>;
  remove(thingName: string, shadowName: string | undefined, clientToken?: string): Promise<object>;
  /** Publishes a response document on `<prefix>/<suffix>`. */
  announce(prefix: string, suffix: string, document: object): Promise<void>;
}

export function createMqttRequestHandler(
  ops: ShadowOperations,
  log: LocalLogger,
  now: () => number,
): (topic: string, payload: Buffer, clientId: string | undefined) => Promise<void> {
  return async (topic, payload, clientId) => {
    const request = parseShadowRequestTopic(topic);
    if (!request) return;
    const { thingName, shadowName, operation } = request;
    const prefix = shadowTopicPrefix(thingName, shadowName);
    let clientToken: string | undefined;
    try {
      if (operation === 'update') {
        // Read the token first, so a rejection can echo it.
        try {
          const doc = parseJson(payload) as { clientToken?: unknown } | null;
          if (doc && typeof doc === 'object') clientToken = validateClientToken(doc.clientToken);
        } catch {
          clientToken = undefined;
        }
        await ops.update(thingName, shadowName, payload);
      } else if (operation === 'get') {
        clientToken = parseTokenOnly(payload);
        await ops.announce(prefix, 'get/accepted', ops.get(thingName, shadowName, clientToken));
      } else {
        clientToken = parseTokenOnly(payload);
        await ops.remove(thingName, shadowName, clientToken);
      }
    } catch (err) {
      // The MQTT error document knows no 503 ("Device Shadow error messages"): a store that
      // refused the change is an internal failure there.
      const shadowErr =
        err instanceof ShadowError && err.code !== 503
          ? err
          : new ShadowError(500, 'Internal service failure');
      if (!(err instanceof ShadowError)) log.error(`${operation} on ${prefix} failed: ${errorText(err)}`);
      log.warn(
        `rejected ${operation} on ${prefix} from client '${clientId ?? 'service'}': ${shadowErr.code} ${shadowErr.message}`,
      );
      await ops.announce(prefix, `${operation}/rejected`, errorDocument(shadowErr, clientToken, now()));
    }
  };
}
