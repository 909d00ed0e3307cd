/**
 * The local AWS Security Token Service: GetCallerIdentity, which `zonectl doctor` calls first
 * to learn whose credentials it holds. STS speaks the query protocol (form-encoded
 * `Action=GetCallerIdentity&Version=2011-06-15`, XML answers in the namespace
 * `https://sts.amazonaws.com/doc/2011-06-15/`; AWS STS API Reference, "GetCallerIdentity").
 *
 * LIMITATIONS versus AWS: only GetCallerIdentity. Any credentials are accepted, and the caller
 * is reported as the local account's root (`arn:aws:iam::<account>:root`), with the access key
 * id as UserId, as AWS reports root credentials.
 */
import { randomUUID } from 'node:crypto';
import { type AwsRequest, type ServiceRoute, xmlDocument } from '../gateway';
import { invalidAction } from './errors';
import type { StsService, StsServiceOptions } from './types';

const XMLNS = 'https://sts.amazonaws.com/doc/2011-06-15/';

export function createStsService(opts: StsServiceOptions): StsService {
  const route: ServiceRoute = {
    name: 'sts',
    protocol: 'query',
    xmlNamespace: XMLNS,
    matches: (req: AwsRequest) => req.signingService === 'sts',
    async handle(req) {
      const params = new URLSearchParams(req.body.toString('utf8'));
      for (const [k, v] of req.query) if (!params.has(k)) params.set(k, v);
      const action = params.get('Action') ?? '';
      if (action !== 'GetCallerIdentity') throw invalidAction(action);
      const { accountId } = opts.identity;
      return {
        status: 200,
        body: xmlDocument(
          'GetCallerIdentityResponse',
          {
            GetCallerIdentityResult: {
              Arn: `arn:aws:iam::${accountId}:root`,
              UserId: req.accessKeyId ?? accountId,
              Account: accountId,
            },
            ResponseMetadata: { RequestId: randomUUID() },
          },
          XMLNS,
        ),
      };
    },
  };
  return { route };
}
