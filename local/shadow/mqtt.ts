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

/** Parses `$aws/things/<thing>/shadow[/name/<shadow>]/<op>`; undefined for response topics. */
export function parseShadowRequestTopic(
  topic: string,
): { thingName: string; shadowName?: string; operation: ShadowOperation } | undefined {
  const parts = topic.split('/');
  if (parts[0] !== '$aws' || parts[1] !== 'things' || parts[3] !== 'shadow') return undefined;
  const thingName = parts[2];
  if (!thingName) return undefined;
  const isOp = (s: string | undefined): s is ShadowOperation =>
    s !== undefined && (SHADOW_OPERATIONS as readonly string[]).includes(s);
  if (parts.length === 5 && isOp(parts[4])) return { thingName, operation: parts[4] };
  if (parts.length === 7 && parts[4] === 'name' && parts[5] && isOp(parts[6])) {
    return { thingName, shadowName: parts[5], operation: parts[6] };
  }
  return undefined;
}

/**
 * Parses a response topic, `$aws/things/<thing>/shadow[/name/<shadow>]/<op>/<result>` (such as
 * `update/accepted`); undefined for any other topic.
 */
export function parseShadowResponseTopic(
  topic: string,
): { thingName: string; shadowName?: string; suffix: string } | undefined {
  const parts = topic.split('/');
  if (parts[0] !== '$aws' || parts[1] !== 'things' || parts[3] !== 'shadow' || !parts[2]) return undefined;
  const thingName = parts[2];
  if (parts.length === 6) return { thingName, suffix: `${parts[4]}/${parts[5]}` };
  if (parts.length === 8 && parts[4] === 'name' && parts[5]) {
    return { thingName, shadowName: parts[5], suffix: `${parts[6]}/${parts[7]}` };
  }
  return undefined;
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
