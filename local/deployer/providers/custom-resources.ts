/**
 * Lambda-backed custom resources (AWS CloudFormation User Guide, "Custom resources", "Custom
 * resource request objects", "Custom resource response objects"): the deployer sends the
 * function a Create, Update or Delete request whose ResponseURL is a one-off HTTP listener on
 * the loopback interface, waits for the function's PUT of the response object, and takes its
 * PhysicalResourceId and Data (`Fn::GetAtt`). A FAILED response fails the deploy with its
 * Reason, as CloudFormation would.
 *
 * LIMITATIONS versus AWS: custom resources whose work is networking (NETWORKING_TYPES) are not
 * run, as networking is not emulated; a function that never answers fails the deploy after its
 * timeout plus a minute (CloudFormation waits up to an hour); `NoEcho` has no effect.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { ApplyRequest, ApplyResult, DeployedResource, ResourceProvider } from '../types';
import type { LocalServices } from './shared';

/** Custom resources the CDK adds for VPC settings; they call EC2, which is not emulated. */
const NETWORKING_TYPES = new Set(['Custom::VpcRestrictDefaultSG']);

interface CustomResourceResponse {
  Status?: string;
  Reason?: string;
  PhysicalResourceId?: string;
  Data?: Record<string, unknown>;
}

/** Whether this provider runs the resource: a custom type whose ServiceToken is a local function. */
export function runsLocally(s: LocalServices, type: string, properties: Record<string, unknown>): boolean {
  if (!(type.startsWith('Custom::') || type === 'AWS::CloudFormation::CustomResource')) return false;
  if (NETWORKING_TYPES.has(type)) return false;
  const token = properties.ServiceToken;
  return (
    typeof token === 'string' &&
    s.lambda.listFunctions().some((f) => f.arn === token || token.endsWith(`:function:${f.functionName}`))
  );
}

export function lambdaBackedCustomResources(s: LocalServices): ResourceProvider & {
  removeCustom(res: DeployedResource & { logicalId: string; stackName: string }): Promise<void>;
} {
  const call = async (
    requestType: 'Create' | 'Update' | 'Delete',
    o: {
      stackName: string;
      logicalId: string;
      type: string;
      properties: Record<string, unknown>;
      physicalId?: string;
      oldProperties?: unknown;
    },
  ): Promise<CustomResourceResponse> => {
    const received = new Promise<CustomResourceResponse>((resolve, reject) => {
      const server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          res.writeHead(200).end();
          server.close();
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as CustomResourceResponse);
          } catch (err) {
            reject(
              new Error(`the custom resource answered something that is not JSON: ${(err as Error).message}`),
            );
          }
        });
      });
      server.listen(0, '127.0.0.1', async () => {
        const port = (server.address() as { port: number }).port;
        const event = {
          RequestType: requestType,
          ServiceToken: o.properties.ServiceToken,
          ResponseURL: `http://127.0.0.1:${port}/cloudformation-response/${randomUUID()}`,
          StackId: `arn:aws:cloudformation:${s.identity.region}:${s.identity.accountId}:stack/${o.stackName}/local`,
          RequestId: randomUUID(),
          LogicalResourceId: o.logicalId,
          ResourceType: o.type,
          ...(o.physicalId ? { PhysicalResourceId: o.physicalId } : {}),
          ResourceProperties: o.properties,
          ...(o.oldProperties ? { OldResourceProperties: o.oldProperties } : {}),
        };
        const timer = setTimeout(() => {
          server.close();
          reject(new Error(`the custom resource function did not answer ${requestType} in time`));
        }, 16 * 60_000);
        timer.unref();
        try {
          const out = await s.lambda.invoke(String(o.properties.ServiceToken), event, 'RequestResponse');
          if (out.functionError) {
            clearTimeout(timer);
            server.close();
            reject(
              new Error(`the custom resource function failed: ${JSON.stringify(out.payload).slice(0, 500)}`),
            );
          }
        } catch (err) {
          clearTimeout(timer);
          server.close();
          reject(err as Error);
        }
        received.finally(() => clearTimeout(timer)).catch(() => undefined);
      });
    });
    return received;
  };

  return {
    async apply(req: ApplyRequest): Promise<ApplyResult> {
      if (req.unchanged && req.previous) {
        return { ref: req.previous.ref, attributes: req.previous.attributes, emulated: true };
      }
      const requestType = req.previous ? 'Update' : 'Create';
      const answer = await call(requestType, {
        stackName: req.stackName,
        logicalId: req.logicalId,
        type: req.type,
        properties: req.properties,
        ...(req.previous ? { physicalId: req.previous.ref } : {}),
      });
      if (answer.Status !== 'SUCCESS') {
        throw new Error(`${requestType} failed: ${answer.Reason ?? 'no reason given'}`);
      }
      const ref = answer.PhysicalResourceId ?? req.previous?.ref ?? req.logicalId;
      if (req.previous && req.previous.ref !== ref) {
        // A new physical id replaces the resource: CloudFormation deletes the old one afterwards.
        await call('Delete', {
          stackName: req.stackName,
          logicalId: req.logicalId,
          type: req.type,
          properties: req.properties,
          physicalId: req.previous.ref,
        }).catch(() => undefined);
      }
      return { ref, attributes: { ...(answer.Data ?? {}), properties: req.properties }, emulated: true };
    },
    async removeCustom(res) {
      const properties = (res.attributes.properties ?? {}) as Record<string, unknown>;
      await call('Delete', {
        stackName: res.stackName,
        logicalId: res.logicalId,
        type: res.type,
        properties,
        physicalId: res.ref,
      });
    },
  };
}
