import { z } from 'zod';

/**
 * Where readings are stored: the `storage` block of the building config.
 *
 * - `timestream` (default): Amazon Timestream for LiveAnalytics, serverless; closed to AWS
 *   accounts that did not use it before 2025-06-20 and offered in a few Regions only
 *   (contracts/regions.ts).
 * - `influxdb`: Amazon Timestream for InfluxDB, one InfluxDB 2 DB instance
 *   (AWS::Timestream::InfluxDBInstance) in a VPC. Every setting below is checked with the
 *   limits AWS documents for it (AWS CloudFormation Template Reference,
 *   "AWS::Timestream::InfluxDBInstance"), so a value AWS would refuse fails `cdk synth`.
 */

export const STORAGE_ENGINES = ['timestream', 'influxdb'] as const;
export type StorageEngine = (typeof STORAGE_ENGINES)[number];

/** DbInstanceType values of AWS::Timestream::InfluxDBInstance. */
export const INFLUXDB_INSTANCE_TYPES = [
  'db.influx.medium',
  'db.influx.large',
  'db.influx.xlarge',
  'db.influx.2xlarge',
  'db.influx.4xlarge',
  'db.influx.8xlarge',
  'db.influx.12xlarge',
  'db.influx.16xlarge',
  'db.influx.24xlarge',
] as const;

/** DbStorageType values: included IOPS 3,000, 12,000 and 16,000. */
export const INFLUXDB_STORAGE_TYPES = [
  'InfluxIOIncludedT1',
  'InfluxIOIncludedT2',
  'InfluxIOIncludedT3',
] as const;
export const INFLUXDB_DEPLOYMENT_TYPES = ['SINGLE_AZ', 'WITH_MULTIAZ_STANDBY'] as const;

/** Ports the service refuses for an instance (CreateDbInstance `port`). */
const RESERVED_PORTS: ReadonlyArray<readonly [number, number]> = [
  [2375, 2376],
  [7788, 7799],
  [8090, 8090],
  [51678, 51680],
];

const SubnetSchema = z
  .object({
    subnetId: z.string().regex(/^subnet-[0-9a-f]{8}([0-9a-f]{9})?$/, {
      message: 'a subnet id such as "subnet-0abc1234def567890"',
    }),
    availabilityZone: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d[a-z]$/, {
      message: 'the subnet\'s Availability Zone, such as "eu-west-1a"',
    }),
  })
  .strict();

export const InfluxDbSettingsSchema = z
  .object({
    /** DB instance class. */
    instanceType: z
      .enum(INFLUXDB_INSTANCE_TYPES, { message: `one of ${INFLUXDB_INSTANCE_TYPES.join(', ')}` })
      .default('db.influx.medium'),
    /** Allocated storage in GiB, 20-16384. */
    storageGiB: z
      .number()
      .int({ message: 'a whole number of GiB' })
      .min(20, { message: 'at least 20 GiB (the service minimum)' })
      .max(16384, { message: 'at most 16384 GiB (the service maximum)' })
      .default(20),
    storageType: z
      .enum(INFLUXDB_STORAGE_TYPES, { message: `one of ${INFLUXDB_STORAGE_TYPES.join(', ')}` })
      .default('InfluxIOIncludedT1'),
    deploymentType: z
      .enum(INFLUXDB_DEPLOYMENT_TYPES, { message: `one of ${INFLUXDB_DEPLOYMENT_TYPES.join(', ')}` })
      .default('SINGLE_AZ'),
    /** TCP port of the InfluxDB API, 1024-65535 but not one the service reserves. */
    port: z
      .number()
      .int()
      .min(1024, { message: 'a port of at least 1024' })
      .max(65535, { message: 'a port of at most 65535' })
      .refine((p) => !RESERVED_PORTS.some(([a, b]) => p >= a && p <= b), {
        message: 'a port outside 2375-2376, 7788-7799, 8090 and 51678-51680, which the service reserves',
      })
      .default(8086),
    /** Days the bucket keeps readings; 0 keeps them forever. */
    retentionDays: z.number().int().min(0).max(36500).default(365),
    /**
     * An existing VPC to run in, with 1-3 of its private subnets (two or more in different
     * Availability Zones for a Multi-AZ standby). @default - a new VPC with two isolated subnets
     */
    vpc: z
      .object({
        vpcId: z.string().regex(/^vpc-[0-9a-f]{8}([0-9a-f]{9})?$/, {
          message: 'a VPC id such as "vpc-0abc1234def567890"',
        }),
        subnets: z
          .array(SubnetSchema)
          .min(1, { message: 'at least one subnet' })
          .max(3, { message: 'at most 3 subnets (the service limit)' }),
        /**
         * Whether the stack creates the Secrets Manager, SQS and S3 endpoints the functions
         * need; false when the VPC already has them (or a NAT gateway). @default true
         */
        createEndpoints: z.boolean().default(true),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.deploymentType === 'WITH_MULTIAZ_STANDBY' && s.vpc) {
      const zones = new Set(s.vpc.subnets.map((x) => x.availabilityZone));
      if (zones.size < 2) {
        ctx.addIssue({
          code: 'custom',
          message:
            'subnets in at least two Availability Zones for WITH_MULTIAZ_STANDBY (or deploymentType SINGLE_AZ)',
          path: ['vpc', 'subnets'],
        });
      }
    }
  });

export type InfluxDbSettings = z.output<typeof InfluxDbSettingsSchema>;

export const StorageSchema = z
  .object({
    engine: z
      .enum(STORAGE_ENGINES, {
        message: `one of ${STORAGE_ENGINES.join(', ')} (timestream: Timestream for LiveAnalytics; influxdb: Timestream for InfluxDB)`,
      })
      .default('timestream'),
    /** LiveAnalytics memory store retention in hours. */
    memoryRetentionHours: z.number().int().min(1).max(8766).default(24),
    /** LiveAnalytics magnetic store retention in days. */
    magneticRetentionDays: z.number().int().min(1).max(73000).default(365),
    /** Timestream for InfluxDB settings; only with engine influxdb. */
    influxdb: InfluxDbSettingsSchema.optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.engine !== 'influxdb' && s.influxdb !== undefined) {
      ctx.addIssue({
        code: 'custom',
        message: 'engine "influxdb" when influxdb settings are given (or remove storage.influxdb)',
        path: ['engine'],
      });
    }
  })
  .transform((s) => ({
    ...s,
    influxdb: s.engine === 'influxdb' ? (s.influxdb ?? InfluxDbSettingsSchema.parse({})) : undefined,
  }));

export type StorageConfig = z.output<typeof StorageSchema>;

/**
 * How a reading is laid out in InfluxDB (line protocol): measurement READING_MEASURE_NAME,
 * the tags building, zone and thing (contracts DIMENSIONS), one field per sensed measure
 * (integer measures as integers) plus `seq` as an integer, and the reading's time.
 *
 * Time: InfluxDB keeps one point per series and timestamp, and a second write with the same
 * timestamp replaces the first one's fields (InfluxDB OSS v2 documentation, "Handle duplicate
 * data points", whose advice is to make the timestamps differ). Two readings of one thing in
 * the same millisecond would lose one, where LiveAnalytics rejects the second. So the
 * timestamp is written in nanoseconds as `ts * 1e6 + (seq mod 1e6)`: the reading's
 * millisecond is kept, readings with different sequence numbers never collide, and writing the
 * same reading again yields the same point (an idempotent retry).
 */
export const INFLUX_SEQ_SPREAD_NS = 1_000_000;

export function influxTimestampNs(ts: number, seq: number): bigint {
  return BigInt(ts) * 1_000_000n + BigInt(seq % INFLUX_SEQ_SPREAD_NS);
}
