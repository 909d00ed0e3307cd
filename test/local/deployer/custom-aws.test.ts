import { describe, expect, it } from 'vitest';
import { DEFAULT_IDENTITY } from '../../../local/common/account';
import { silentLogger } from '../../../local/common/log';
import type { ApplyRequest } from '../../../local/deployer/deployer';
import { customAwsProviders } from '../../../local/deployer/providers/custom-aws';
import type { LocalServices } from '../../../local/deployer/providers/shared';

const services = {
  identity: DEFAULT_IDENTITY,
  logger: silentLogger,
  iot: { describeEndpoint: (type?: string) => (type === 'iot:Data-ATS' ? 'localhost' : 'other') },
} as unknown as LocalServices;

const provider = customAwsProviders(services)['Custom::AWS']!;

const request = (call: unknown): ApplyRequest => ({
  stackName: 'Zonectl-hq',
  logicalId: 'Lookup',
  type: 'Custom::AWS',
  properties: { Create: JSON.stringify(call), Update: JSON.stringify(call) },
  metadata: {},
  physicalName: () => 'generated',
  unchanged: false,
  assetPath: () => undefined,
});

describe('Custom::AWS (AwsCustomResource) locally', () => {
  it('makes the IoT DescribeEndpoint call and returns its response fields as attributes', async () => {
    const result = await provider.apply(
      request({
        service: 'Iot',
        action: 'describeEndpoint',
        parameters: { endpointType: 'iot:Data-ATS' },
        physicalResourceId: { id: 'iot-data-ats-endpoint' },
      }),
    );
    expect(result).toMatchObject({
      ref: 'iot-data-ats-endpoint',
      attributes: { endpointAddress: 'localhost' },
      emulated: true,
    });
  });

  it('accepts an SDK call it cannot make as not emulated, with no response fields', async () => {
    const result = await provider.apply(request({ service: 'S3', action: 'listBuckets' }));
    expect(result).toMatchObject({ attributes: {}, emulated: false });
    expect(result.note).toContain('S3.listBuckets');
  });
});
