import type { DeployResult } from './deployer';
import type { AwsRequest, AwsResponse, ServiceRoute } from './gateway';

/**
 * The local cloud's own admin API, beside the AWS APIs on the gateway port (which listens on
 * loopback only): `POST /_zonectl/deploy {"assembly": "<dir>"}` deploys a cloud assembly
 * into the running cloud, as `zonectl local deploy` does. Not an AWS API.
 */
export const ADMIN_DEPLOY_PATH = '/_zonectl/deploy';

export function createAdminRoute(deploy: (assemblyDir: string) => Promise<DeployResult>): ServiceRoute {
  return {
    name: 'zonectl-admin',
    protocol: 'rest-json',
    matches: (req) => req.path === ADMIN_DEPLOY_PATH,
    async handle(req: AwsRequest): Promise<AwsResponse> {
      if (req.method !== 'POST') return json(405, { message: `use POST ${ADMIN_DEPLOY_PATH}` });
      let assembly: unknown;
      try {
        assembly = (JSON.parse(req.body.toString('utf8')) as { assembly?: unknown }).assembly;
      } catch {
        return json(400, { message: 'the body must be JSON: {"assembly": "<cloud assembly dir>"}' });
      }
      if (typeof assembly !== 'string' || assembly === '') {
        return json(400, { message: 'missing "assembly": the cloud assembly directory (e.g. cdk.out)' });
      }
      try {
        return json(200, await deploy(assembly));
      } catch (err) {
        return json(422, { message: (err as Error).message });
      }
    },
  };
}

function json(status: number, body: unknown): AwsResponse {
  return { status, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(body)) };
}
