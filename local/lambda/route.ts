/**
 * The Lambda API on the gateway (rest-json, signing name `lambda`, paths under `/2015-03-31/`):
 * - Invoke (Lambda API Reference, "Invoke"): `POST /2015-03-31/functions/{FunctionName}/invocations`,
 *   `X-Amz-Invocation-Type` RequestResponse (default), Event or DryRun. A function error is a
 *   200 with `X-Amz-Function-Error: Unhandled` and the error payload as the body.
 * - The management calls that inspect what is deployed (management.ts): ListFunctions
 *   (`GET /2015-03-31/functions/`; botocore before 1.3x sends the trailing slash, later
 *   versions do not), GetFunction, GetFunctionConfiguration, ListEventSourceMappings,
 *   GetEventSourceMapping.
 * LIMITATIONS: no Qualifier other than $LATEST, no `X-Amz-Log-Type: Tail` log tail; every other
 * Lambda API path answers UnknownOperationException naming what is served.
 */

import { type CloudIdentity, LocalCapacityError } from '../common';
import type { AwsRequest, AwsResponse, ServiceRoute } from '../gateway';
import { invalidParameterValue, invalidRequestContent, operationNotServed, tooManyRequests } from './errors';
import {
  eventSourceMappingConfiguration,
  filterEventSourceMappings,
  findEventSourceMapping,
  findFunction,
  functionConfiguration,
  getFunctionOutput,
  page,
} from './management';
import { INVOKE_PATH, LAMBDA_ROUTE } from './request';
import type { EventSourceMappingView, LambdaService } from './types';

const FUNCTIONS_PATH = /^\/2015-03-31\/functions\/?$/;
const FUNCTION_PATH = /^\/2015-03-31\/functions\/([^/]+)\/?$/;
const CONFIGURATION_PATH = /^\/2015-03-31\/functions\/([^/]+)\/configuration\/?$/;
const MAPPINGS_PATH = /^\/2015-03-31\/event-source-mappings\/?$/;
const MAPPING_PATH = /^\/2015-03-31\/event-source-mappings\/([^/]+)\/?$/;

export interface LambdaRouteDeps
  extends Pick<LambdaService, 'invoke' | 'listFunctions' | 'describeFunctions'> {
  readonly identity: CloudIdentity;
  readonly eventSourceMappings: () => readonly EventSourceMappingView[];
}

const json = (body: object): AwsResponse => ({
  status: 200,
  headers: { 'content-type': 'application/json' },
  body,
});

export function createLambdaRoute(deps: LambdaRouteDeps): ServiceRoute {
  async function invoke(req: AwsRequest, name: string): Promise<AwsResponse> {
    if (req.method !== 'POST') throw operationNotServed(`${req.method} ${req.path}`);
    const type = req.headers['x-amz-invocation-type'] ?? 'RequestResponse';
    if (type !== 'RequestResponse' && type !== 'Event' && type !== 'DryRun') {
      throw invalidParameterValue(`Invalid invocation type ${type}; use RequestResponse, Event or DryRun`);
    }
    let payload: unknown = {};
    const text = req.body.toString('utf8');
    if (text.trim() !== '') {
      try {
        payload = JSON.parse(text);
      } catch {
        throw invalidRequestContent();
      }
    }
    if (type === 'DryRun') {
      findFunction(deps.describeFunctions(), deps.identity, name, req.query.get('Qualifier') ?? undefined);
      return { status: 204 };
    }
    let result: Awaited<ReturnType<typeof deps.invoke>>;
    try {
      result = await deps.invoke(name, payload, type);
    } catch (err) {
      if (err instanceof LocalCapacityError) throw tooManyRequests(err.message);
      throw err;
    }
    const headers: Record<string, string> = {
      'x-amz-executed-version': result.executedVersion,
      'x-amzn-requestid': result.requestId,
    };
    if (type === 'Event') return { status: 202, headers };
    headers['content-type'] = 'application/json';
    if (result.functionError) headers['x-amz-function-error'] = result.functionError;
    return { status: 200, headers, body: Buffer.from(result.rawPayload, 'utf8') };
  }

  function manage(req: AwsRequest): AwsResponse {
    const q = req.query;
    const qualifier = q.get('Qualifier') ?? undefined;
    if (req.method === 'GET') {
      if (FUNCTIONS_PATH.test(req.path)) {
        const { items, nextMarker } = page(deps.describeFunctions(), q.get('Marker'), q.get('MaxItems'), 50);
        return json({
          Functions: items.map(functionConfiguration),
          ...(nextMarker ? { NextMarker: nextMarker } : {}),
        });
      }
      const config = CONFIGURATION_PATH.exec(req.path);
      if (config) {
        return json(
          functionConfiguration(findFunction(deps.describeFunctions(), deps.identity, config[1]!, qualifier)),
        );
      }
      const fn = FUNCTION_PATH.exec(req.path);
      if (fn)
        return json(
          getFunctionOutput(findFunction(deps.describeFunctions(), deps.identity, fn[1]!, qualifier)),
        );
      if (MAPPINGS_PATH.test(req.path)) {
        const mappings = filterEventSourceMappings(
          deps.eventSourceMappings(),
          q.get('EventSourceArn'),
          q.get('FunctionName'),
        );
        const { items, nextMarker } = page(mappings, q.get('Marker'), q.get('MaxItems'), 100);
        return json({
          EventSourceMappings: items.map((m) => eventSourceMappingConfiguration(m, deps.identity)),
          ...(nextMarker ? { NextMarker: nextMarker } : {}),
        });
      }
      const mapping = MAPPING_PATH.exec(req.path);
      if (mapping) {
        return json(
          eventSourceMappingConfiguration(
            findEventSourceMapping(deps.eventSourceMappings(), mapping[1]!),
            deps.identity,
          ),
        );
      }
    }
    throw operationNotServed(`${req.method} ${req.path}`);
  }

  return {
    ...LAMBDA_ROUTE,
    async handle(req) {
      const invokeMatch = INVOKE_PATH.exec(req.path);
      if (invokeMatch) return invoke(req, invokeMatch[1]!);
      return manage(req);
    },
  };
}
