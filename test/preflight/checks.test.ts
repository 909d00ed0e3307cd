/**
 * The preflight's answers to what AWS can say, with mocked SDK clients: expired and missing
 * credentials, a missing or malformed Region, a Region without LiveAnalytics, a Region where a
 * service has no endpoint, and the CDK bootstrap stack missing, too old or fine.
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
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type CheckResult,
  formatPreflight,
  type PreflightClients,
  runPreflight,
} from '../../preflight/checks';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };
function clients(region: string | undefined): PreflightClients {
  const c = { ...(region ? { region } : {}), credentials };
  return {
    sts: new STSClient(c),
    iot: new IoTClient(c),
    timestream: new TimestreamWriteClient(c),
    influxdb: new TimestreamInfluxDBClient(c),
    cloudFormation: new CloudFormationClient(c),
  };
}
const awsError = (name: string, message: string) => Object.assign(new Error(message), { name });

const sts = mockClient(STSClient);
const iot = mockClient(IoTClient);
const ts = mockClient(TimestreamWriteClient);
const influx = mockClient(TimestreamInfluxDBClient);
const cfn = mockClient(CloudFormationClient);

// Unit files share one module graph: give the clients' real send back to the files after this one.
afterAll(() => {
  for (const m of [sts, iot, ts, influx, cfn]) m.restore();
});

beforeEach(() => {
  for (const m of [sts, iot, ts, influx, cfn]) m.reset();
  sts
    .on(GetCallerIdentityCommand)
    .resolves({ Account: '111122223333', Arn: 'arn:aws:iam::111122223333:user/ops' });
  iot.on(DescribeEndpointCommand).resolves({ endpointAddress: 'abc123-ats.iot.eu-west-1.amazonaws.com' });
  ts.on(DescribeEndpointsCommand).resolves({ Endpoints: [] });
  ts.on(ListDatabasesCommand).resolves({ Databases: [] });
  influx.on(ListDbInstancesCommand).resolves({ items: [] });
  cfn.on(DescribeStacksCommand).resolves({
    Stacks: [
      {
        StackName: 'CDKToolkit',
        StackStatus: 'CREATE_COMPLETE',
        CreationTime: new Date(0),
        Outputs: [{ OutputKey: 'BootstrapVersion', OutputValue: '29' }],
      },
    ],
  });
});

async function check(region: string | undefined, engine: 'timestream' | 'influxdb' = 'timestream') {
  const results = await runPreflight({ engines: [engine], clients: clients(region) });
  return { results, by: Object.fromEntries(results.map((r) => [r.check, r])) as Record<string, CheckResult> };
}

describe('the deploy preflight', () => {
  it('is all ok for a bootstrapped LiveAnalytics customer in a LiveAnalytics Region', async () => {
    const { results } = await check('eu-west-1');
    expect(results.map((r) => [r.check, r.status])).toEqual([
      ['region', 'ok'],
      ['credentials', 'ok'],
      ['engine timestream', 'ok'],
      ['IoT data endpoint', 'ok'],
      ['CDK bootstrap', 'ok'],
    ]);
    expect(formatPreflight(results)).toContain('Ready to deploy.');
  });

  it('says expired credentials are expired, how to renew them, and skips the rest', async () => {
    sts
      .on(GetCallerIdentityCommand)
      .rejects(awsError('ExpiredToken', 'The security token included in the request is expired'));
    const { by, results } = await check('eu-west-1');
    expect(by.credentials).toMatchObject({ status: 'problem', detail: expect.stringContaining('expired') });
    expect(by.credentials!.fix).toContain('aws sso login');
    expect(results.filter((r) => r.status === 'skipped').map((r) => r.check)).toEqual([
      'engine timestream',
      'IoT data endpoint',
      'CDK bootstrap',
    ]);
  });

  it('says when no credentials are found', async () => {
    sts
      .on(GetCallerIdentityCommand)
      .rejects(awsError('CredentialsProviderError', 'Could not load credentials from any providers'));
    const { by } = await check('eu-west-1');
    expect(by.credentials).toMatchObject({
      status: 'problem',
      fix: expect.stringContaining('aws configure'),
    });
  });

  it('asks for a Region when none is set, and refuses a malformed one', async () => {
    const none = await check(undefined);
    expect(none.by.region).toMatchObject({ status: 'problem', fix: expect.stringContaining('--region') });
    const bad = await check('europe');
    expect(bad.by.region).toMatchObject({ status: 'problem', detail: expect.stringContaining('"europe"') });
  });

  it('names the LiveAnalytics Regions and the InfluxDB engine in a Region without LiveAnalytics', async () => {
    const { by } = await check('eu-north-1');
    expect(by['engine timestream']!.status).toBe('problem');
    expect(by['engine timestream']!.detail).toContain('us-east-1, us-east-2, us-west-2');
    expect(by['engine timestream']!.fix).toContain('"engine": "influxdb"');
  });

  it('reports a Region where Timestream for InfluxDB has no endpoint', async () => {
    influx
      .on(ListDbInstancesCommand)
      .rejects(
        Object.assign(
          awsError('Error', 'getaddrinfo ENOTFOUND timestream-influxdb.xx-east-9.amazonaws.com'),
          { code: 'ENOTFOUND' },
        ),
      );
    const { by } = await check('xx-east-9', 'influxdb');
    expect(by['engine influxdb']).toMatchObject({
      status: 'problem',
      detail: expect.stringContaining('has no endpoint in xx-east-9'),
    });
  });

  it('tells an account that is not bootstrapped, or bootstrapped too long ago, to run cdk bootstrap', async () => {
    cfn
      .on(DescribeStacksCommand)
      .rejects(awsError('ValidationError', 'Stack with id CDKToolkit does not exist'));
    const missing = await check('eu-west-1');
    expect(missing.by['CDK bootstrap']).toMatchObject({
      status: 'problem',
      fix: 'npx cdk bootstrap aws://<account>/eu-west-1',
    });
    cfn.on(DescribeStacksCommand).resolves({
      Stacks: [
        {
          StackName: 'CDKToolkit',
          StackStatus: 'CREATE_COMPLETE',
          CreationTime: new Date(0),
          Outputs: [{ OutputKey: 'BootstrapVersion', OutputValue: '5' }],
        },
      ],
    });
    const old = await check('eu-west-1');
    expect(old.by['CDK bootstrap']!.detail).toContain('older than the 6');
  });

  it('tells an identity without the IAM permission which action to allow', async () => {
    iot
      .on(DescribeEndpointCommand)
      .rejects(awsError('AccessDeniedException', 'not authorized to perform iot:DescribeEndpoint'));
    const { by } = await check('eu-west-1');
    expect(by['IoT data endpoint']!.fix).toContain('allow iot:DescribeEndpoint');
  });
});
