/**
 * The Lambda Invoke API (Lambda API Reference, "Invoke"): rest-json
 * `POST /2015-03-31/functions/{FunctionName}/invocations`, signing name `lambda`,
 * `X-Amz-Invocation-Type` RequestResponse (default), Event or DryRun. A function error is a
 * 200 with `X-Amz-Function-Error: Unhandled` and the error payload as the body.
 * LIMITATIONS: Invoke only (no control-plane operations, no Qualifier other than $LATEST,
 * no `X-Amz-Log-Type: Tail` log tail).
 */

import { LocalCapacityError } from '../common';
import type { ServiceRoute } from '../gateway';
import { functionNotFound, invalidParameterValue, invalidRequestContent, tooManyRequests } from './errors';
import type { LambdaService } from './types';

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations\/?$/;

export function createLambdaRoute(service: Pick<LambdaService, 'invoke' | 'listFunctions'>): ServiceRoute {
  return {
    name: 'lambda',
    protocol: 'rest-json',
    matches: (req) =>
      INVOKE_PATH.test(req.path) && (req.signingService === undefined || req.signingService === 'lambda'),
    async handle(req) {
      const name = INVOKE_PATH.exec(req.path)?.[1] ?? '';
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
        const fnName = /(?:^|:)function:([^:]+)/.exec(name)?.[1] ?? name;
        if (!service.listFunctions().some((f) => f.functionName === fnName)) {
          throw functionNotFound(name);
        }
        return { status: 204 };
      }
      let result: Awaited<ReturnType<typeof service.invoke>>;
      try {
        result = await service.invoke(name, payload, type);
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
    },
  };
}
