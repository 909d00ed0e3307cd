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

import { topicLimitViolation } from '../broker/topics';
import type { MessageBus } from '../broker/types';
import type { CloudIdentity } from '../common/account';
import { AwsServiceError } from '../common/aws-error';
import type { AwsRequest, AwsResponse, ServiceRoute } from '../gateway/types';
import { ShadowError } from './document';
import type { ShadowApi } from './service';

const SHADOW_PATH = /^\/things\/([^/]+)\/shadow\/?$/;
const LIST_PATH = /^\/api\/things\/shadow\/ListNamedShadowsForThing\/([^/]+)\/?$/;
const PUBLISH_PATH = /^\/topics\/(.+)$/;

/** iot-data exception shapes by status (model `iot-data-plane`). */
const EXCEPTIONS: Record<number, string> = {
  400: 'InvalidRequestException',
  401: 'UnauthorizedException',
  403: 'ForbiddenException',
  404: 'ResourceNotFoundException',
  405: 'MethodNotAllowedException',
  409: 'ConflictException',
  413: 'RequestEntityTooLargeException',
  415: 'UnsupportedDocumentEncodingException',
  429: 'ThrottlingException',
  500: 'InternalFailureException',
  503: 'ServiceUnavailableException',
};

export function toAwsError(err: ShadowError): AwsServiceError {
  return new AwsServiceError(EXCEPTIONS[err.code] ?? 'InternalFailureException', err.code, err.message);
}

const json = (body: object): AwsResponse => ({
  status: 200,
  headers: { 'content-type': 'application/json' },
  body: Buffer.from(JSON.stringify(body)),
});

export function shadowRoute(deps: {
  api: ShadowApi;
  bus: MessageBus;
  identity: CloudIdentity;
}): ServiceRoute {
  const { api, bus } = deps;

  async function publish(req: AwsRequest, encodedTopic: string): Promise<AwsResponse> {
    let topic: string;
    try {
      topic = decodeURIComponent(encodedTopic);
    } catch {
      throw new AwsServiceError('InvalidRequestException', 400, 'Topic is not valid percent-encoding');
    }
    const problem = topicLimitViolation(topic);
    if (problem) throw new AwsServiceError('InvalidRequestException', 400, `Invalid topic: ${problem}`);
    if (topic.includes('+') || topic.includes('#')) {
      throw new AwsServiceError('InvalidRequestException', 400, 'Topic must not contain wildcards');
    }
    const qosText = req.query.get('qos') ?? '0';
    if (qosText !== '0' && qosText !== '1') {
      throw new AwsServiceError('InvalidRequestException', 400, `qos must be 0 or 1, not '${qosText}'`);
    }
    const retain = req.query.get('retain') === 'true';
    if (req.body.length > 128 * 1024) {
      throw new AwsServiceError(
        'RequestEntityTooLargeException',
        413,
        'The payload exceeds the maximum size allowed',
      );
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
          throw new AwsServiceError(
            'MethodNotAllowedException',
            405,
            `${req.method} is not allowed on a shadow`,
          );
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
    throw new AwsServiceError(
      'MethodNotAllowedException',
      405,
      `${req.method} ${req.path} is not an iot-data operation`,
    );
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
