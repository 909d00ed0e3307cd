/**
 * Local Device Shadow service: classic and named shadows over the reserved MQTT topics (through
 * the broker's MessageBus, as AWS's shadow service sits behind its message broker) and over the
 * HTTP data plane (`iot-data`, see ./route); the MQTT request handling is in ./mqtt.
 *
 * Follows the AWS IoT Core developer guide, "Device Shadow service": "Device Shadow MQTT
 * topics" (requests on `<prefix>/get|update|delete`, responses on `/accepted`, `/rejected`,
 * `/update/delta`, `/update/documents`; a rejected message only for MQTT requests), "Device
 * Shadow service documents" and "Device Shadow error messages". Updates made over HTTP are
 * announced on the MQTT response topics too, as AWS does.
 *
 * An update is answered once its change is on disk (./store). Its announcements are journaled
 * by the broker at the same time, held, and published once the change is on disk, so the two
 * disk writes overlap instead of following each other; a change the disk refuses withdraws
 * them, and after a crash between the two writes a replay guard drops announcements of a
 * version the stored shadow never reached.
 *
 * LIMITATIONS versus AWS:
 * - A shadow needs a thing in the registry: requests for an unknown thing get 404 "Thing not
 *   found" (AWS lets unregistered things have shadows in some setups; moto requires a thing).
 *   ListNamedShadowsForThing returns an empty list for an unknown thing, as AWS does.
 * - Requests are handled one at a time in arrival order, so the 429 "more than 10 in-flight
 *   requests per connection" never occurs.
 * - Will messages on shadow topics are not told apart from other publishes (AWS ignores them).
 * - Shadow topics are authorized by the broker's IoT policy checks only; the HTTP API accepts any
 *   SigV4 credentials and does not check iot:GetThingShadow and the like (no 401/403).
 * - Responses are published at QoS 1; persistent-session semantics follow the broker.
 */
import { join } from 'node:path';
import { shadowTopicPrefix } from '../../contracts';
import type { BrokerMessage, PublishOptions } from '../broker';
import { errorText, isStorageFailure } from '../common';
import {
  applyDelete,
  applyUpdate,
  exists,
  getDocument,
  notFoundMessage,
  parseUpdateRequest,
  SHADOW_NAME,
  THING_NAME,
} from './document';
import { ShadowError } from './errors';
import { createMqttRequestHandler, parseShadowResponseTopic } from './mqtt';
import { createIotDataRoute } from './route';
import { CLASSIC, ShadowStore } from './store';
import type { ShadowApi, ShadowService, ShadowServiceOptions } from './types';

/** The topics an update announces on, each document carrying the new version. */
const UPDATE_ANNOUNCEMENTS = new Set(['update/accepted', 'update/delta', 'update/documents']);

export async function createShadowService(options: ShadowServiceOptions): Promise<ShadowService> {
  const { bus, directory } = options;
  const log = options.logger;
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  const store = await ShadowStore.open(join(options.stateDir, 'shadow'), log);

  /** Checks names and the registry; returns the store key of the shadow. */
  function locate(thingName: string, shadowName: string | undefined): string {
    if (!THING_NAME.test(thingName)) throw new ShadowError(404, 'Thing not found');
    if (shadowName !== undefined && !SHADOW_NAME.test(shadowName)) {
      throw new ShadowError(400, `Invalid shadow name: '${shadowName}'`);
    }
    if (!directory.thingByName(thingName)) throw new ShadowError(404, 'Thing not found');
    return shadowName ?? CLASSIC;
  }

  /** Waits for a change to be on disk; a disk that refuses it makes the request fail with 503. */
  async function stored(write: Promise<void>): Promise<void> {
    try {
      await write;
    } catch (err) {
      if (!isStorageFailure(err)) throw err;
      log.error(`a shadow change is not acknowledged: ${errorText(err)}`);
      throw new ShadowError(503, 'Service unavailable: the shadow could not be stored; retry');
    }
  }

  const displayName = (thingName: string, shadowName: string | undefined) => shadowName ?? thingName;

  async function announce(
    prefix: string,
    suffix: string,
    document: object,
    options?: PublishOptions,
  ): Promise<void> {
    const topic = `${prefix}/${suffix}`;
    try {
      await bus.publish({ topic, payload: JSON.stringify(document), qos: 1 }, options);
    } catch (err) {
      log.error(`cannot publish ${topic}: ${errorText(err)}`);
    }
  }

  function get(thingName: string, shadowName: string | undefined, clientToken?: string): object {
    const key = locate(thingName, shadowName);
    const shadow = store.get(thingName, key);
    if (!exists(shadow)) throw new ShadowError(404, notFoundMessage(displayName(thingName, shadowName)));
    return getDocument(shadow, clientToken, now());
  }

  async function update(
    thingName: string,
    shadowName: string | undefined,
    document: Buffer | string | object,
  ): Promise<object> {
    const key = locate(thingName, shadowName);
    const request =
      Buffer.isBuffer(document) || typeof document === 'string'
        ? parseUpdateRequest(document)
        : parseUpdateRequest(JSON.stringify(document));
    const outcome = applyUpdate(store.get(thingName, key), request, now());
    const write = stored(store.put(thingName, key, outcome.shadow));
    // The announcements are journaled while the change is written, and published only once it
    // is on disk; a change the disk refused withdraws them (and a crash in between leaves them
    // to the replay guard below). Started together, in order: the broker journals them in one
    // write and publishes them in the order they were started.
    const until = write.then(
      () => true,
      () => false,
    );
    const prefix = shadowTopicPrefix(thingName, shadowName);
    const announced = Promise.all([
      announce(prefix, 'update/accepted', outcome.accepted, { until }),
      ...(outcome.delta ? [announce(prefix, 'update/delta', outcome.delta, { until })] : []),
      announce(prefix, 'update/documents', outcome.documents, { until }),
    ]);
    // A refused change is answered at once: its announcements withdraw themselves once the
    // broker has journaled them, which on a full disk waits for room.
    await write;
    await announced;
    return outcome.accepted;
  }

  async function remove(
    thingName: string,
    shadowName: string | undefined,
    clientToken?: string,
  ): Promise<object> {
    const key = locate(thingName, shadowName);
    const outcome = applyDelete(
      store.get(thingName, key),
      displayName(thingName, shadowName),
      clientToken,
      now(),
    );
    await stored(store.put(thingName, key, outcome.shadow));
    await announce(shadowTopicPrefix(thingName, shadowName), 'delete/accepted', outcome.accepted);
    return outcome.accepted;
  }

  const api: ShadowApi = {
    get: (thingName, shadowName) => get(thingName, shadowName),
    update,
    delete: (thingName, shadowName) => remove(thingName, shadowName),
    listNamedShadows(thingName, opts = {}) {
      const pageSize = opts.pageSize ?? 25;
      if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 100) {
        throw new ShadowError(400, 'pageSize must be between 1 and 100');
      }
      let start = 0;
      if (opts.nextToken !== undefined) {
        start = Number.parseInt(Buffer.from(opts.nextToken, 'base64url').toString('utf8'), 10);
        if (!Number.isInteger(start) || start < 0) throw new ShadowError(400, 'Invalid nextToken');
      }
      const names = THING_NAME.test(thingName) ? store.namedShadows(thingName) : [];
      const results = names.slice(start, start + pageSize);
      const more = start + pageSize < names.length;
      return {
        results,
        ...(more ? { nextToken: Buffer.from(String(start + pageSize)).toString('base64url') } : {}),
        timestamp: now(),
      };
    },
  };

  /**
   * After a crash, an update's announcements journaled while its change was being written are
   * handed over only when the change reached the disk: the stored shadow has their version.
   */
  const announcesStoredChange = (message: BrokerMessage): boolean => {
    const response = parseShadowResponseTopic(message.topic);
    if (!response || !UPDATE_ANNOUNCEMENTS.has(response.suffix)) return true;
    let version: unknown;
    try {
      const doc = JSON.parse(message.payload.toString('utf8')) as {
        version?: unknown;
        current?: { version?: unknown };
      };
      version = response.suffix === 'update/documents' ? doc?.current?.version : doc?.version;
    } catch {
      return true;
    }
    if (typeof version !== 'number') return true;
    const shadow = store.get(response.thingName, response.shadowName ?? CLASSIC);
    return shadow !== undefined && shadow.version >= version;
  };
  const unguard = bus.guardReplay('$aws/things/+/shadow/#', announcesStoredChange);

  const onRequest = createMqttRequestHandler({ get, update, remove, announce }, log, now);

  // Requests are processed strictly in arrival order. The promise of each tells the broker
  // when the request is done (stored and answered), so a request accepted just before a crash
  // is handed over again after the restart.
  let queue: Promise<void> = Promise.resolve();
  const enqueue = (topic: string, payload: Buffer, clientId: string | undefined): Promise<void> => {
    queue = queue.then(() => onRequest(topic, payload, clientId));
    return queue;
  };
  const unsubscribe = [
    bus.subscribe('$aws/things/+/shadow/+', (m) => enqueue(m.topic, m.payload, m.clientId)),
    bus.subscribe('$aws/things/+/shadow/name/+/+', (m) => enqueue(m.topic, m.payload, m.clientId)),
  ];

  return {
    route: createIotDataRoute({ api, bus }),
    api,
    async close() {
      for (const u of unsubscribe) u();
      unguard();
      await queue;
      await store.close();
    },
  };
}
