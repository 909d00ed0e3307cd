import { connect } from 'node:net';
import {
  DescribeDatabaseCommand,
  ResourceNotFoundException,
  TimestreamWriteClient,
} from '@aws-sdk/client-timestream-write';
import { afterEach, describe, expect, it } from 'vitest';
import { AwsServiceError } from '../../../local/common/aws-error';
import { recordingLogger } from '../../../local/common/log';
import { createGatewayService, type GatewayService } from '../../../local/gateway';
import type { AwsRequest, ServiceRoute } from '../../../local/gateway/types';
import { dummyCredentials, type IotHarness, startIot } from '../iot/harness';

const AUTH = (service: string) =>
  `AWS4-HMAC-SHA256 Credential=AKIDLOCAL/20260101/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=00`;

let gateway: GatewayService | undefined;
let iot: IotHarness | undefined;
afterEach(async () => {
  await gateway?.close();
  await iot?.close();
  gateway = undefined;
  iot = undefined;
});

/** A route that answers with what the gateway parsed, or throws what it is told to. */
function echoRoute(name: string, accept: (req: AwsRequest) => boolean, fail?: () => never): ServiceRoute {
  return {
    name,
    protocol: 'json-1.0',
    matches: accept,
    handle: async (req) => {
      fail?.();
      return {
        status: 200,
        body: {
          route: name,
          method: req.method,
          path: req.path,
          rawPath: req.rawPath,
          query: Object.fromEntries(req.query),
          signingService: req.signingService,
          accessKeyId: req.accessKeyId,
          target: req.target,
          body: req.body.toString(),
        },
      };
    },
  };
}

describe('AWS API gateway', () => {
  it('routes by the signing service in the SigV4 credential scope and parses the request', async () => {
    const logger = recordingLogger();
    gateway = await createGatewayService({
      port: 0,
      logger,
      routes: [
        echoRoute('a', (r) => r.signingService === 'alpha'),
        echoRoute('b', (r) => r.signingService === 'beta'),
      ],
    });
    const res = await fetch(`${gateway.endpoint}/x/a%2Fb?k=v`, {
      method: 'POST',
      headers: { authorization: AUTH('beta'), 'x-amz-target': 'Svc.Op' },
      body: 'hello',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-amz-json-1.0');
    expect(res.headers.get('x-amzn-requestid')).toBeTruthy();
    expect(await res.json()).toEqual({
      route: 'b',
      method: 'POST',
      path: '/x/a/b',
      rawPath: '/x/a%2Fb',
      query: { k: 'v' },
      signingService: 'beta',
      accessKeyId: 'AKIDLOCAL',
      target: 'Svc.Op',
      body: 'hello',
    });
  });

  it('serves a route added after start', async () => {
    gateway = await createGatewayService({ port: 0, logger: recordingLogger(), routes: [] });
    gateway.addRoute(echoRoute('late', () => true));
    const res = await fetch(`${gateway.endpoint}/any`);
    expect(((await res.json()) as { route: string }).route).toBe('late');
  });

  it('answers an unrouted request with 404 UnknownOperationException naming method and path', async () => {
    const logger = recordingLogger();
    gateway = await createGatewayService({ port: 0, logger, routes: [] });
    const res = await fetch(`${gateway.endpoint}/nowhere`, { method: 'DELETE' });
    expect(res.status).toBe(404);
    expect(res.headers.get('x-amzn-errortype')).toBe('UnknownOperationException');
    const body = (await res.json()) as { message: string; __type: string };
    expect(body.__type).toBe('UnknownOperationException');
    expect(body.message).toMatch(/DELETE \/nowhere/);
    expect(logger.lines.some((l) => l.includes('DELETE /nowhere'))).toBe(true);
  });

  it('answers 503 ServiceUnavailable while its owner starts, and the SDK retries it into the route added meanwhile', async () => {
    gateway = await createGatewayService({ port: 0, logger: recordingLogger(), routes: [], starting: true });
    const res = await fetch(`${gateway.endpoint}/nowhere`, { method: 'DELETE' });
    expect(res.status).toBe(503);
    expect(res.headers.get('x-amzn-errortype')).toBe('ServiceUnavailable');
    expect(((await res.json()) as { message: string }).message).toMatch(/starting.*try again/);

    // An SDK call made during the start: its first attempt gets the 503, then the owner adds
    // the route and is ready, and the SDK's retry reaches the route.
    const client = new TimestreamWriteClient({
      endpoint: gateway.endpoint,
      region: 'us-east-1',
      credentials: dummyCredentials,
    });
    const late = gateway;
    const statuses: number[] = [];
    client.middlewareStack.add(
      (next) => async (args) => {
        try {
          const out = await next(args);
          statuses.push((out.response as { statusCode: number }).statusCode);
          return out;
        } finally {
          if (statuses.length === 1) {
            late.addRoute(
              echoRoute(
                'timestream',
                (r) => r.signingService === 'timestream',
                () => {
                  throw new AwsServiceError('ResourceNotFoundException', 400, 'no database readings');
                },
              ),
            );
            late.ready();
          }
        }
      },
      { step: 'deserialize', name: 'recordAttempts' },
    );
    await expect(
      client.send(new DescribeDatabaseCommand({ DatabaseName: 'readings' })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
    expect(statuses).toEqual([503, 400]);
    client.destroy();

    const after = await fetch(`${gateway.endpoint}/nowhere`, { method: 'DELETE' });
    expect(after.status).toBe(404);
    expect(after.headers.get('x-amzn-errortype')).toBe('UnknownOperationException');
  });

  it('renders a JSON-protocol error so the AWS SDK raises the modeled exception class', async () => {
    gateway = await createGatewayService({
      port: 0,
      logger: recordingLogger(),
      routes: [
        echoRoute(
          'timestream',
          (r) => r.signingService === 'timestream',
          () => {
            throw new AwsServiceError('ResourceNotFoundException', 404, 'The database nope does not exist.');
          },
        ),
      ],
    });
    const client = new TimestreamWriteClient({
      endpoint: gateway.endpoint,
      region: 'us-east-1',
      credentials: dummyCredentials,
      maxAttempts: 1,
    });
    try {
      const err = await client
        .send(new DescribeDatabaseCommand({ DatabaseName: 'nope' }))
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ResourceNotFoundException);
      expect((err as Error).message).toBe('The database nope does not exist.');
    } finally {
      client.destroy();
    }
  });

  it('answers an unexpected route failure with 500 and keeps serving', async () => {
    const logger = recordingLogger();
    let calls = 0;
    gateway = await createGatewayService({
      port: 0,
      logger,
      routes: [
        echoRoute(
          'flaky',
          () => true,
          () => {
            calls += 1;
            if (calls === 1) throw new TypeError('boom');
            return undefined as never;
          },
        ),
      ],
    });
    const first = await fetch(`${gateway.endpoint}/x`, { method: 'POST', body: '{}' });
    expect(first.status).toBe(500);
    expect(((await first.json()) as { __type: string }).__type).toBe('InternalFailure');
    expect(logger.lines.some((l) => l.includes('flaky POST /x failed unexpectedly: TypeError: boom'))).toBe(
      true,
    );
    const second = await fetch(`${gateway.endpoint}/x`, { method: 'POST', body: '{}' });
    expect(second.status).toBe(200);
  });

  it("answers an unexpected route failure with the exception the route's service model names", async () => {
    const logger = recordingLogger();
    const route: ServiceRoute = {
      ...echoRoute(
        'timestream-write',
        () => true,
        () => {
          throw new RangeError('store gone');
        },
      ),
      internalErrorCode: 'InternalServerException',
    };
    gateway = await createGatewayService({ port: 0, logger, routes: [route] });
    const res = await fetch(`${gateway.endpoint}/`, {
      method: 'POST',
      headers: { 'x-amz-target': 'Timestream_20181101.WriteRecords' },
      body: '{}',
    });
    expect(res.status).toBe(500);
    expect(((await res.json()) as { __type: string }).__type).toBe('InternalServerException');
    expect(
      logger.lines.some((l) =>
        l.includes(
          'timestream-write POST / (Timestream_20181101.WriteRecords) failed unexpectedly: RangeError: store gone',
        ),
      ),
    ).toBe(true);
  });

  it("qualifies a JSON-protocol error's __type with the route's namespace and logs the refusal", async () => {
    const logger = recordingLogger();
    const route: ServiceRoute = {
      ...echoRoute(
        'sqs',
        () => true,
        () => {
          throw new AwsServiceError('QueueDoesNotExist', 400, 'The specified queue does not exist.');
        },
      ),
      errorNamespace: 'com.amazonaws.sqs',
    };
    gateway = await createGatewayService({ port: 0, logger, routes: [route] });
    const res = await fetch(`${gateway.endpoint}/`, {
      method: 'POST',
      headers: { 'x-amz-target': 'AmazonSQS.GetQueueUrl' },
      body: '{}',
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      __type: 'com.amazonaws.sqs#QueueDoesNotExist',
      message: 'The specified queue does not exist.',
    });
    expect(
      logger.lines.some((l) =>
        l.includes('sqs POST / (AmazonSQS.GetQueueUrl) -> 400 QueueDoesNotExist: The specified queue'),
      ),
    ).toBe(true);
  });

  it('refuses a body over the size limit with 413', async () => {
    gateway = await createGatewayService({
      port: 0,
      logger: recordingLogger(),
      routes: [echoRoute('a', () => true)],
      maxBodyBytes: 1024,
    });
    const res = await fetch(`${gateway.endpoint}/x`, { method: 'POST', body: 'x'.repeat(4096) });
    expect(res.status).toBe(413);
    expect(res.headers.get('x-amzn-errortype')).toBe('RequestEntityTooLargeException');
    const ok = await fetch(`${gateway.endpoint}/x`, { method: 'POST', body: 'small' });
    expect(ok.status).toBe(200);
  });

  it('refuses a malformed HTTP request with 400 and keeps serving', async () => {
    gateway = await createGatewayService({
      port: 0,
      logger: recordingLogger(),
      routes: [echoRoute('a', () => true)],
    });
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(gateway?.port ?? 0, '127.0.0.1', () => socket.write('NOT HTTP AT ALL\r\n\r\n'));
      let data = '';
      socket.on('data', (d) => {
        data += d.toString();
      });
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    expect(reply).toMatch(/^HTTP\/1.1 400/);
    expect((await fetch(`${gateway.endpoint}/x`)).status).toBe(200);
  });

  it('answers malformed JSON for the IoT API with a 400 InvalidRequestException', async () => {
    iot = await startIot();
    const res = await fetch(`${iot.gateway.endpoint}/things/t1`, {
      method: 'POST',
      headers: { authorization: AUTH('iot'), 'content-type': 'application/json' },
      body: '{"attributePayload": ',
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('x-amzn-errortype')).toBe('InvalidRequestException');
    expect(((await res.json()) as { message: string }).message).toMatch(/not valid JSON/);
  });

  it('routes IoT control-plane calls signed as execute-api by their path, as botocore 1.29 signs them', async () => {
    iot = await startIot();
    const res = await fetch(`${iot.gateway.endpoint}/endpoint?endpointType=iot%3AData-ATS`, {
      headers: { authorization: AUTH('execute-api') },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ endpointAddress: 'localhost' });
  });

  it('leaves Device Shadow paths to the data plane', async () => {
    iot = await startIot();
    const res = await fetch(`${iot.gateway.endpoint}/things/t1/shadow`, {
      headers: { authorization: AUTH('iotdata') },
    });
    expect(res.status).toBe(404);
    expect(res.headers.get('x-amzn-errortype')).toBe('UnknownOperationException');
  });
});

describe('browser requests', () => {
  it('refuses a request from another site', async () => {
    const { browserRefusal } = await import('../../../local/gateway');
    expect(browserRefusal({ host: '127.0.0.1:4600', origin: 'https://evil.example' })).toMatch(
      /cross-origin/,
    );
  });

  it('refuses a Host that is not a loopback name', async () => {
    const { browserRefusal } = await import('../../../local/gateway');
    expect(browserRefusal({ host: 'attacker.example:4600' })).toMatch(/not a loopback name/);
  });

  it('lets same-origin pages and SDK clients through', async () => {
    const { browserRefusal } = await import('../../../local/gateway');
    expect(browserRefusal({ host: '127.0.0.1:4600', origin: 'http://127.0.0.1:4600' })).toBeUndefined();
    expect(browserRefusal({ host: 'localhost:4600' })).toBeUndefined();
  });
});
