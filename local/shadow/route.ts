/**
 * The AWS IoT data plane (`iot-data`, rest-json, SigV4 signing name `iotdata`) as a gateway
 * route: GetThingShadow, UpdateThingShadow, DeleteThingShadow, ListNamedShadowsForThing and
 * Publish (AWS IoT API reference, "AWS IoT data plane"; developer guide, "Device Shadow REST
 * API" and "HTTPS" publishing).
 *
 * LIMITATIONS versus AWS: Publish ignores the MQTT 5 properties (contentType, responseTopic,
 * messageExpiry, user properties, correlation data); no authorization of the caller (any SigV4
 * credentials work); GetRetainedMessage and ListRetainedMessages are not implemented.
 */

import { MAX_PAYLOAD_BYTES, type MessageBus, topicLimitViolation } from '../broker';
import type { AwsRequest, AwsResponse, ServiceRoute } from '../gateway';
import { invalidRequest, methodNotAllowed, payloadTooLarge, ShadowError, toAwsError } from './errors';
import type { ShadowApi } from './types';

const SHADOW_PATH = /^\/things\/([^/]+)\/shadow\/?$/;
const LIST_PATH = /^\/api\/things\/shadow\/ListNamedShadowsForThing\/([^/]+)\/?$/;
const PUBLISH_PATH = /^\/topics\/(.+)$/;

const json = (body: object): AwsResponse => ({
  status: 200,
  headers: { 'content-type': 'application/json' },
  body: Buffer.from(JSON.stringify(body)),
});

export function createIotDataRoute(deps: { api: ShadowApi; bus: MessageBus }): ServiceRoute {
  const { api, bus } = deps;

  async function publish(req: AwsRequest, encodedTopic: string): Promise<AwsResponse> {
    let topic: string;
    try {
      topic = decodeURIComponent(encodedTopic);
    } catch {
      throw invalidRequest('Topic is not valid percent-encoding');
    }
    const problem = topicLimitViolation(topic);
    if (problem) throw invalidRequest(`Invalid topic: ${problem}`);
    if (topic.includes('+') || topic.includes('#')) {
      throw invalidRequest('Topic must not contain wildcards');
    }
    const qosText = req.query.get('qos') ?? '0';
    if (qosText !== '0' && qosText !== '1') {
      throw invalidRequest(`qos must be 0 or 1, not '${qosText}'`);
    }
    const retain = req.query.get('retain') === 'true';
    if (req.body.length > MAX_PAYLOAD_BYTES) {
      throw payloadTooLarge();
    }
    await bus.publish({ topic, payload: req.body, qos: qosText === '1' ? 1 : 0, retain });
    return { status: 200 };
  }

  async function handle(req: AwsRequest): Promise<AwsResponse> {
    const shadowName = req.query.get('name') ?? undefined;
    const shadow = SHADOW_PATH.exec(req.path);
    if (shadow) {
      const thingName = shadow[1]!;
      switch (req.method) {
        case 'GET':
          return json(api.get(thingName, shadowName));
        case 'POST':
          return json(await api.update(thingName, shadowName, req.body));
        case 'DELETE':
          return json(await api.delete(thingName, shadowName));
        default:
          throw methodNotAllowed(`${req.method} is not allowed on a shadow`);
      }
    }
    const list = LIST_PATH.exec(req.path);
    if (list && req.method === 'GET') {
      const pageSize = req.query.get('pageSize');
      const nextToken = req.query.get('nextToken');
      return json(
        api.listNamedShadows(list[1]!, {
          ...(pageSize !== null ? { pageSize: Number(pageSize) } : {}),
          ...(nextToken !== null ? { nextToken } : {}),
        }),
      );
    }
    const topic = PUBLISH_PATH.exec(req.rawPath);
    if (topic && req.method === 'POST') return publish(req, topic[1]!);
    throw methodNotAllowed(`${req.method} ${req.path} is not an iot-data operation`);
  }

  return {
    name: 'iotdata',
    protocol: 'rest-json',
    matches(req) {
      if (
        req.signingService !== undefined &&
        req.signingService !== 'iotdata' &&
        req.signingService !== 'iotdevicegateway'
      ) {
        return false;
      }
      return SHADOW_PATH.test(req.path) || LIST_PATH.test(req.path) || PUBLISH_PATH.test(req.rawPath);
    },
    async handle(req) {
      try {
        return await handle(req);
      } catch (err) {
        if (err instanceof ShadowError) throw toAwsError(err);
        throw err;
      }
    },
  };
}
