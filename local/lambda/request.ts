/**
 * Which gateway requests are the Lambda API's, told from the request alone, so the local cloud
 * can route them before the Lambda service is loaded (./deferred): anything signed for
 * `lambda`, and, unsigned, an Invoke path or a GET of functions or event source mappings under
 * a Lambda API version date.
 */
import type { RouteShape } from '../common';
import type { AwsRequest } from '../gateway';

/** Invoke: `POST /2015-03-31/functions/<name>/invocations`. */
export const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations\/?$/;
/** Every Lambda API path starts with its API version date (2015-03-31, 2017-03-31, 2019-09-25, ...). */
const LAMBDA_API_PATH = /^\/20\d\d-\d\d-\d\d\//;

export function isLambdaRequest(req: AwsRequest): boolean {
  return (
    req.signingService === 'lambda' ||
    (req.signingService === undefined &&
      (INVOKE_PATH.test(req.path) ||
        (req.method === 'GET' &&
          LAMBDA_API_PATH.test(req.path) &&
          /\/(functions|event-source-mappings)\b/.test(req.path))))
  );
}

/** The Lambda API's route, all but its handler (./route; ./deferred before Lambda loads). */
export const LAMBDA_ROUTE: RouteShape = { name: 'lambda', protocol: 'rest-json', matches: isLambdaRequest };
