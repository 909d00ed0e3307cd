/**
 * The deploy preflight behind `zonectl doctor`: before `cdk deploy`, asks the caller's account
 * and Region, with the AWS SDK, whether the deploy can work, and says for each check ok, or the
 * problem and the exact fix.
 *
 * The calls (each needs only read permissions):
 * - credentials: STS GetCallerIdentity (needs no IAM permission; AWS STS API Reference);
 *   expired sessions answer `ExpiredToken` from STS and `ExpiredTokenException` from the JSON
 *   services, bad keys `InvalidClientTokenId` / `SignatureDoesNotMatch` / `UnrecognizedClientException`;
 * - Region: its name against the pattern of AWS Region names; a Region that does not exist
 *   has no endpoint host (ENOTFOUND);
 * - the engine: `timestream` — the Region must be one of LIVE_ANALYTICS_REGIONS, then
 *   timestream-write DescribeEndpoints and ListDatabases (IAM timestream:DescribeEndpoints,
 *   timestream:ListDatabases): AccessDeniedException there means the account cannot use
 *   LiveAnalytics, which closed to new customers on 2025-06-20 (Timestream Developer Guide,
 *   "Amazon Timestream for LiveAnalytics availability change"); `influxdb` — timestream-influxdb
 *   ListDbInstances (IAM timestream-influxdb:ListDbInstances) answers where the service exists;
 * - the IoT data endpoint: iot DescribeEndpoint `iot:Data-ATS` (AWS IoT Developer Guide,
 *   "Connecting devices to AWS IoT": the account's own ATS endpoint);
 * - CDK bootstrap: CloudFormation DescribeStacks on `CDKToolkit`, whose `BootstrapVersion`
 *   output must be at least 6, the version aws-cdk-lib 2.x templates check in their
 *   `CheckBootstrapVersion` rule (CDK Developer Guide, "Bootstrapping").
 *
 * Which checks run depends on the earlier ones: without working credentials the others are
 * skipped, with the reason.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DescribeEndpointCommand, IoTClient } from '@aws-sdk/client-iot';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { ListDbInstancesCommand, TimestreamInfluxDBClient } from '@aws-sdk/client-timestream-influxdb';
import {
  DescribeEndpointsCommand,
  ListDatabasesCommand,
  TimestreamWriteClient,
} from '@aws-sdk/client-timestream-write';
import { LIVE_ANALYTICS_REGIONS, REGION_PATTERN, type StorageEngine } from '../contracts';

export type CheckStatus = 'ok' | 'problem' | 'skipped';

export interface CheckResult {
  /** Short name of the check, e.g. `credentials`. */
  readonly check: string;
  readonly status: CheckStatus;
  /** What was found (ok), what is wrong (problem), or why the check did not run (skipped). */
  readonly detail: string;
  /** For a problem: the exact thing to do. */
  readonly fix?: string;
}

/** The minimum `BootstrapVersion` aws-cdk-lib 2.x templates require (their CheckBootstrapVersion rule). */
export const MIN_BOOTSTRAP_VERSION = 6;
export const CDK_TOOLKIT_STACK = 'CDKToolkit';

export interface PreflightClients {
  readonly sts: STSClient;
  readonly iot: IoTClient;
  readonly timestream: TimestreamWriteClient;
  readonly influxdb: TimestreamInfluxDBClient;
  readonly cloudFormation: CloudFormationClient;
}

export interface PreflightOptions {
  /** The storage engines of the buildings to deploy (each checked once). */
  readonly engines: readonly StorageEngine[];
  readonly clients: PreflightClients;
  /**
   * The local cloud: it deploys the assembly itself, so the CDK bootstrap check does not apply
   * (reported as skipped, with the reason).
   */
  readonly local?: boolean;
}

/** Clients for AWS (the SDK's default credential chain and Region, or `region`). */
export function awsClients(region?: string): PreflightClients {
  const config = { ...(region ? { region } : {}), maxAttempts: 2 };
  return {
    sts: new STSClient(config),
    iot: new IoTClient(config),
    timestream: new TimestreamWriteClient(config),
    influxdb: new TimestreamInfluxDBClient(config),
    cloudFormation: new CloudFormationClient(config),
  };
}

/** Clients for the local cloud's API endpoint. */
export function localClients(config: {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}): PreflightClients {
  const c = { ...config, maxAttempts: 1 };
  return {
    sts: new STSClient(c),
    iot: new IoTClient(c),
    // The local endpoint answers DescribeEndpoints itself; no discovery host to reach.
    timestream: new TimestreamWriteClient(c),
    influxdb: new TimestreamInfluxDBClient(c),
    cloudFormation: new CloudFormationClient(c),
  };
}

export function closeClients(clients: PreflightClients): void {
  for (const c of Object.values(clients)) (c as { destroy(): void }).destroy();
}

const ENGINE_NAMES: Record<StorageEngine, string> = {
  timestream: 'Amazon Timestream for LiveAnalytics',
  influxdb: 'Amazon Timestream for InfluxDB',
};
const SWITCH_TO_INFLUXDB =
  'set "storage": {"engine": "influxdb"} in the building config (see docs/deploy.md)';

/** Runs every check, in order; never throws for an AWS answer. */
export async function runPreflight(o: PreflightOptions): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  const skipAll = (why: string, names: string[]) => {
    for (const check of names) out.push({ check, status: 'skipped', detail: why });
  };
  const later = [...[...new Set(o.engines)].map((e) => `engine ${e}`), 'IoT data endpoint', 'CDK bootstrap'];

  // Region first: every call needs one.
  let region: string;
  try {
    region = await o.clients.sts.config.region();
  } catch {
    region = '';
  }
  if (!region) {
    out.push({
      check: 'region',
      status: 'problem',
      detail: 'no AWS Region is set',
      fix: 'pass --region <region>, or set AWS_REGION (or a region in your AWS profile)',
    });
    skipAll('no Region', ['credentials', ...later]);
    return out;
  }
  if (!REGION_PATTERN.test(region)) {
    out.push({
      check: 'region',
      status: 'problem',
      detail: `"${region}" is not an AWS Region name (such as eu-west-1)`,
      fix: 'pass --region with a Region name such as eu-west-1, or fix AWS_REGION / your profile',
    });
    skipAll('no valid Region', ['credentials', ...later]);
    return out;
  }
  out.push({ check: 'region', status: 'ok', detail: region });

  // Credentials.
  try {
    const id = await o.clients.sts.send(new GetCallerIdentityCommand({}));
    out.push({ check: 'credentials', status: 'ok', detail: `account ${id.Account} as ${id.Arn}` });
  } catch (err) {
    out.push({ check: 'credentials', ...credentialProblem(err, region) });
    skipAll('no working credentials', later);
    return out;
  }

  for (const engine of new Set(o.engines)) {
    out.push(
      engine === 'timestream'
        ? await liveAnalyticsCheck(o.clients.timestream, region)
        : await influxDbCheck(o.clients.influxdb, region),
    );
  }

  try {
    const ep = await o.clients.iot.send(new DescribeEndpointCommand({ endpointType: 'iot:Data-ATS' }));
    out.push({ check: 'IoT data endpoint', status: 'ok', detail: ep.endpointAddress ?? '(none)' });
  } catch (err) {
    out.push({
      check: 'IoT data endpoint',
      ...serviceProblem(err, region, 'AWS IoT Core', 'iot:DescribeEndpoint'),
    });
  }

  if (o.local) {
    out.push({
      check: 'CDK bootstrap',
      status: 'skipped',
      detail: 'the local cloud deploys the cloud assembly itself; no bootstrap stack is needed',
    });
  } else {
    out.push(await bootstrapCheck(o.clients.cloudFormation, region));
  }
  return out;
}

async function liveAnalyticsCheck(client: TimestreamWriteClient, region: string): Promise<CheckResult> {
  const check = 'engine timestream';
  if (!(LIVE_ANALYTICS_REGIONS as readonly string[]).includes(region)) {
    return {
      check,
      status: 'problem',
      detail: `${ENGINE_NAMES.timestream} is not offered in ${region}; it runs in ${LIVE_ANALYTICS_REGIONS.join(', ')}`,
      fix: `deploy to one of those Regions, or ${SWITCH_TO_INFLUXDB}`,
    };
  }
  try {
    await client.send(new DescribeEndpointsCommand({}));
    await client.send(new ListDatabasesCommand({ MaxResults: 1 }));
    return {
      check,
      status: 'ok',
      detail: `${ENGINE_NAMES.timestream} answers in ${region} for this account`,
    };
  } catch (err) {
    if (errorName(err) === 'AccessDeniedException') {
      return {
        check,
        status: 'problem',
        detail: `this account cannot use ${ENGINE_NAMES.timestream} in ${region} (${errorMessage(err)}). It closed to new customers on 2025-06-20; if your IAM identity does allow timestream:DescribeEndpoints and timestream:ListDatabases, the account is not an existing customer`,
        fix: SWITCH_TO_INFLUXDB,
      };
    }
    return { check, ...serviceProblem(err, region, ENGINE_NAMES.timestream, 'timestream:DescribeEndpoints') };
  }
}

async function influxDbCheck(client: TimestreamInfluxDBClient, region: string): Promise<CheckResult> {
  const check = 'engine influxdb';
  try {
    const out = await client.send(new ListDbInstancesCommand({ maxResults: 20 }));
    const n = out.items?.length ?? 0;
    return {
      check,
      status: 'ok',
      detail: `${ENGINE_NAMES.influxdb} answers in ${region} (${n} DB instance${n === 1 ? '' : 's'} in the account)`,
    };
  } catch (err) {
    return {
      check,
      ...serviceProblem(err, region, ENGINE_NAMES.influxdb, 'timestream-influxdb:ListDbInstances'),
    };
  }
}

async function bootstrapCheck(client: CloudFormationClient, region: string): Promise<CheckResult> {
  const check = 'CDK bootstrap';
  const bootstrap = `npx cdk bootstrap aws://<account>/${region}`;
  try {
    const out = await client.send(new DescribeStacksCommand({ StackName: CDK_TOOLKIT_STACK }));
    const stack = out.Stacks?.[0];
    const version = Number(stack?.Outputs?.find((x) => x.OutputKey === 'BootstrapVersion')?.OutputValue);
    if (!Number.isFinite(version)) {
      return {
        check,
        status: 'problem',
        detail: `the ${CDK_TOOLKIT_STACK} stack has no BootstrapVersion output (status ${stack?.StackStatus ?? 'unknown'})`,
        fix: bootstrap,
      };
    }
    if (version < MIN_BOOTSTRAP_VERSION) {
      return {
        check,
        status: 'problem',
        detail: `bootstrap version ${version} is older than the ${MIN_BOOTSTRAP_VERSION} this app's templates require`,
        fix: bootstrap,
      };
    }
    return { check, status: 'ok', detail: `${CDK_TOOLKIT_STACK} version ${version}` };
  } catch (err) {
    if (errorName(err) === 'ValidationError' && /does not exist/.test(errorMessage(err))) {
      return {
        check,
        status: 'problem',
        detail: `${region} is not bootstrapped for the CDK`,
        fix: bootstrap,
      };
    }
    return { check, ...serviceProblem(err, region, 'AWS CloudFormation', 'cloudformation:DescribeStacks') };
  }
}

type Problem = Omit<CheckResult, 'check'>;

const EXPIRED = new Set(['ExpiredToken', 'ExpiredTokenException', 'RequestExpired']);
const BAD_KEYS = new Set(['InvalidClientTokenId', 'SignatureDoesNotMatch', 'UnrecognizedClientException']);

function credentialProblem(err: unknown, region: string): Problem {
  const name = errorName(err);
  if (EXPIRED.has(name)) {
    return {
      status: 'problem',
      detail: `the credentials have expired (${name})`,
      fix: 'sign in again (aws sso login, or new temporary credentials in AWS_SESSION_TOKEN) and run doctor again',
    };
  }
  if (BAD_KEYS.has(name)) {
    return {
      status: 'problem',
      detail: `AWS does not accept these credentials (${name}: ${errorMessage(err)})`,
      fix: 'check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or AWS_PROFILE (aws configure list shows what is used)',
    };
  }
  if (
    name === 'CredentialsProviderError' ||
    name === 'TokenRetrievalError' ||
    /credential/i.test(errorMessage(err))
  ) {
    return {
      status: 'problem',
      detail: `no AWS credentials found (${errorMessage(err)})`,
      fix: 'run aws configure (or aws sso login), or export AWS_PROFILE / AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY',
    };
  }
  return serviceProblem(err, region, 'AWS STS', 'sts:GetCallerIdentity');
}

/** A failed call to a service: not in the Region, not allowed, or something else (named as is). */
function serviceProblem(err: unknown, region: string, service: string, action: string): Problem {
  const name = errorName(err);
  const code = (err as { code?: string }).code;
  if (
    code === 'ENOTFOUND' ||
    name === 'UnknownEndpoint' ||
    /Region not accepted|ENOTFOUND/.test(errorMessage(err))
  ) {
    return {
      status: 'problem',
      detail: `${service} has no endpoint in ${region}: the Region does not exist or does not offer the service (${errorMessage(err)})`,
      fix: `check the Region name, or deploy to a Region that offers ${service}`,
    };
  }
  if (EXPIRED.has(name)) return credentialProblem(err, region);
  if (name === 'AccessDeniedException' || name === 'AccessDenied' || name === 'UnauthorizedOperation') {
    return {
      status: 'problem',
      detail: `your IAM identity may not call ${action} (${errorMessage(err)})`,
      fix: `allow ${action} for the identity that deploys (the CDK deploy role needs it too)`,
    };
  }
  return {
    status: 'problem',
    detail: `${service}: ${name}: ${errorMessage(err)}`,
    fix: 'see the error above',
  };
}

function errorName(err: unknown): string {
  return (err as { name?: string })?.name ?? 'Error';
}
function errorMessage(err: unknown): string {
  return (err as { message?: string })?.message ?? String(err);
}

/** The results as lines for people: `ok`, `PROBLEM` with its fix, `skipped` with why. */
export function formatPreflight(results: readonly CheckResult[]): string {
  const width = Math.max(...results.map((r) => r.check.length));
  const lines: string[] = [];
  for (const r of results) {
    const mark = r.status === 'ok' ? 'ok     ' : r.status === 'problem' ? 'PROBLEM' : 'skipped';
    lines.push(`${mark}  ${r.check.padEnd(width)}  ${r.detail}`);
    if (r.fix) lines.push(`${' '.repeat(9 + width)}  fix: ${r.fix}`);
  }
  const problems = results.filter((r) => r.status === 'problem').length;
  lines.push('');
  lines.push(
    problems === 0
      ? 'Ready to deploy.'
      : `${problems} problem${problems === 1 ? '' : 's'}: fix before cdk deploy.`,
  );
  return lines.join('\n');
}
