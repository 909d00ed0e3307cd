/**
 * The `iot` control-plane API (rest-json) as a gateway route: finds the operation whose HTTP
 * binding (method, path with labels, as in the AWS IoT Smithy model) fits the request and runs
 * it against the registry. The operations are listed by resource under ./operations.
 *
 * Routing: AWS SDK v3 signs these calls as `iot`; botocore 1.29 (AWS CLI 2.9) signs them as
 * `execute-api`, so requests are also recognised by their path. `/things/<name>/shadow` paths
 * belong to the Device Shadow data plane (`iotdata`) and are never claimed here.
 *
 * LIMITATIONS versus AWS: only the operations listed under ./operations are served; others get
 * 404 UnknownOperationException. Timestamps are epoch seconds.
 */

import { isStorageFailure } from '../common';
import type { AwsRequest } from '../gateway';
import { parseJsonObject, type ServiceRoute } from '../gateway';
import { serviceUnavailable, unknownOperation } from './errors';
import {
  CERTIFICATE_OPERATIONS,
  ENDPOINT_OPERATIONS,
  type Operation,
  POLICY_OPERATIONS,
  PRINCIPAL_OPERATIONS,
  THING_OPERATIONS,
  TOPIC_RULE_OPERATIONS,
} from './operations';
import type { IotRegistry } from './registry';

/** Every operation the local `iot` API serves. */
export const IOT_OPERATIONS: readonly Operation[] = [
  ...THING_OPERATIONS,
  ...PRINCIPAL_OPERATIONS,
  ...POLICY_OPERATIONS,
  ...CERTIFICATE_OPERATIONS,
  ...ENDPOINT_OPERATIONS,
  ...TOPIC_RULE_OPERATIONS,
];

const IOT_PATH_ROOTS = new Set(IOT_OPERATIONS.map((o) => o.segments[0]));

/** Path segments of the raw path, each percent-decoded (labels such as certificate ARNs hold an encoded '/'). */
function segmentsOf(rawPath: string): string[] | undefined {
  try {
    return rawPath
      .split('/')
      .filter((s) => s !== '')
      .map((s) => decodeURIComponent(s));
  } catch {
    return undefined;
  }
}

function findOperation(req: AwsRequest): { op: Operation; labels: string[] } | undefined {
  const segments = segmentsOf(req.rawPath);
  if (!segments) return undefined;
  for (const op of IOT_OPERATIONS) {
    if (op.method !== req.method || op.segments.length !== segments.length) continue;
    const labels: string[] = [];
    const fits = op.segments.every((s, i) => {
      const actual = segments[i] ?? '';
      if (s === '{}') {
        labels.push(actual);
        return actual !== '';
      }
      return s === actual;
    });
    if (fits) return { op, labels };
  }
  return undefined;
}

export function createIotRoute(registry: IotRegistry): ServiceRoute {
  return {
    name: 'iot',
    protocol: 'rest-json',
    matches(req) {
      if (req.signingService && req.signingService !== 'iot' && req.signingService !== 'execute-api')
        return false;
      if (req.target) return false;
      const segments = segmentsOf(req.rawPath) ?? [];
      // The Device Shadow data plane shares the /things prefix.
      if (segments[0] === 'things' && segments[2] === 'shadow') return false;
      if (req.signingService === 'iot') return true;
      return IOT_PATH_ROOTS.has(segments[0]) && findOperation(req) !== undefined;
    },
    async handle(req) {
      const found = findOperation(req);
      if (!found) throw unknownOperation(`No IoT operation matches ${req.method} ${req.path}`);
      let body: Record<string, unknown> | undefined;
      const out = await found.op.handle({
        req,
        labels: found.labels,
        registry,
        body: () => {
          body ??= parseJsonObject(req.body, 'InvalidRequestException');
          return body;
        },
      });
      // Acknowledge a change only once it is on disk (one fsync for the changes of a turn).
      try {
        await registry.durable();
      } catch (err) {
        if (isStorageFailure(err)) throw serviceUnavailable((err as Error).message);
        throw err;
      }
      return out;
    },
  };
}
