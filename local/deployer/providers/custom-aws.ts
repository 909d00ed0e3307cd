/**
 * `Custom::AWS`, the custom resource aws-cdk-lib's AwsCustomResource synthesizes: one AWS SDK
 * call on create and one on update (its `Create` and `Update` properties, JSON text with
 * `service`, `action`, `parameters`), whose response fields become `Fn::GetAtt` attributes
 * (aws-cdk-lib custom-resources, AwsCustomResource `getResponseField`). Locally the call is made
 * against the local services directly instead of by the CDK's provider function.
 *
 * LIMITATIONS versus AWS: only the calls in SUPPORTED run; any other is accepted as not
 * emulated, and a template that reads one of its response fields fails the deploy naming the
 * attribute. `Delete` calls are not made. `outputPaths` and `ignoreErrorCodesMatching` are not
 * applied.
 */
import type { ApplyRequest, ApplyResult, ResourceProvider } from '../types';
import type { LocalServices } from './shared';

interface SdkCall {
  readonly service: string;
  readonly action: string;
  readonly parameters?: Record<string, unknown>;
  readonly physicalResourceId?: { id?: string };
}

type Call = (s: LocalServices, parameters: Record<string, unknown>) => Record<string, unknown>;

/** `<service>.<action>` (as AwsCustomResource names them, SDK v2 or v3 style) -> the local call. */
const SUPPORTED: Record<string, Call> = {
  'iot.describeendpoint': (s, p) => ({
    endpointAddress: s.iot.describeEndpoint(typeof p.endpointType === 'string' ? p.endpointType : undefined),
  }),
};

export function customAwsProviders(s: LocalServices): Record<string, ResourceProvider> {
  const provider: ResourceProvider = {
    async apply(req: ApplyRequest): Promise<ApplyResult> {
      const call =
        parseCall(req.previous ? req.properties.Update : req.properties.Create) ??
        parseCall(req.properties.Create);
      const ref = call?.physicalResourceId?.id ?? req.physicalName(64);
      const key = call ? `${normalise(call.service)}.${call.action.toLowerCase()}` : '';
      const run = SUPPORTED[key];
      if (!call || !run) {
        return {
          ref,
          attributes: {},
          emulated: false,
          note: call ? `the SDK call ${call.service}.${call.action} is not made locally` : 'no SDK call',
        };
      }
      return { ref, attributes: run(s, call.parameters ?? {}), emulated: true };
    },
  };
  return { 'Custom::AWS': provider };
}

function parseCall(value: unknown): SdkCall | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    const call = JSON.parse(value) as SdkCall;
    return typeof call.service === 'string' && typeof call.action === 'string' ? call : undefined;
  } catch {
    return undefined;
  }
}

/** `Iot`, `IoT`, `@aws-sdk/client-iot` -> `iot`. */
function normalise(service: string): string {
  return service
    .replace(/^@aws-sdk\/client-/, '')
    .replace(/-/g, '')
    .toLowerCase();
}
