/**
 * AWS::Timestream::Database and AWS::Timestream::Table (AWS CloudFormation User Guide; the
 * table's RetentionProperties values arrive as strings) created in the local Timestream; a
 * redeploy updates a table's retention and keeps its data.
 */
import { arn } from '../../common';
import type { ResourceProvider } from '../types';
import { type LocalServices, type Props, str } from './shared';

export function timestreamProviders(s: LocalServices): Record<string, ResourceProvider> {
  const database: ResourceProvider = {
    async apply(req) {
      if (s.liveAnalyticsRefusal) throw new Error(`AccessDeniedException: ${s.liveAnalyticsRefusal}`);
      const name = str(req.properties.DatabaseName) ?? req.physicalName(64);
      await s.timestream.createDatabase(name);
      return {
        ref: name,
        attributes: { Arn: arn(s.identity, 'timestream', `database/${name}`) },
        emulated: true,
      };
    },
  };

  const table: ResourceProvider = {
    async apply(req) {
      const p = req.properties;
      const db = str(p.DatabaseName)!;
      const name = str(p.TableName) ?? req.physicalName(64);
      const retention = (p.RetentionProperties ?? {}) as Props;
      const magnetic = (p.MagneticStoreWriteProperties ?? {}) as Props;
      await s.timestream.createTable(db, name, {
        memoryStoreRetentionHours: retention.MemoryStoreRetentionPeriodInHours as string | undefined,
        magneticStoreRetentionDays: retention.MagneticStoreRetentionPeriodInDays as string | undefined,
        enableMagneticStoreWrites: magnetic.EnableMagneticStoreWrites as boolean | undefined,
      });
      return {
        ref: `${db}|${name}`,
        attributes: { Arn: arn(s.identity, 'timestream', `database/${db}/table/${name}`), Name: name },
        emulated: true,
      };
    },
  };

  return { 'AWS::Timestream::Database': database, 'AWS::Timestream::Table': table };
}
