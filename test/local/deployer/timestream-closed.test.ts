/**
 * An account without Timestream for LiveAnalytics access (the local cloud's `liveAnalytics:
 * 'closed'`): its deploy of a LiveAnalytics database fails with AccessDeniedException, as on
 * AWS, instead of creating the database.
 */
import { describe, expect, it, vi } from 'vitest';
import { DEFAULT_IDENTITY } from '../../../local/common/account';
import type { LocalServices } from '../../../local/deployer/providers/shared';
import { timestreamProviders } from '../../../local/deployer/providers/timestream';
import type { ApplyRequest } from '../../../local/deployer/types';

const request = {
  stackName: 'Zonectl-hq',
  logicalId: 'Database',
  type: 'AWS::Timestream::Database',
  properties: { DatabaseName: 'zonectl-hq' },
  metadata: {},
  physicalName: () => 'zonectl-hq',
  unchanged: false,
  assetPath: () => undefined,
} satisfies ApplyRequest;

describe('LiveAnalytics closed to the account', () => {
  it('refuses the database with AccessDeniedException and creates nothing', async () => {
    const createDatabase = vi.fn();
    const services = {
      identity: DEFAULT_IDENTITY,
      timestream: { createDatabase },
      liveAnalyticsRefusal: 'not open to new customers',
    } as unknown as LocalServices;
    const provider = timestreamProviders(services)['AWS::Timestream::Database']!;
    await expect(provider.apply(request)).rejects.toThrow(/AccessDeniedException: not open to new customers/);
    expect(createDatabase).not.toHaveBeenCalled();
  });
});
