import { Aws, CfnRule, Duration, Fn, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as timestream from 'aws-cdk-lib/aws-timestream';
import { Construct } from 'constructs';
import { ENV, LIVE_ANALYTICS_REGIONS, liveAnalyticsRegionProblem } from '../contracts';
import type { HandlerFunction } from './handler-function';
import { stackUniqueName } from './names';

export interface TelemetryTableProps {
  /**
   * Building id; the database is named `zonectl-<buildingId>-<8 hex digits of the stack id>`,
   * so a stack created after `cdk destroy` never collides with the database the last one kept.
   */
  readonly buildingId: string;
  /** Hours a record stays in the memory store (1-8766); older writes need magnetic store writes. */
  readonly memoryRetentionHours: number;
  /** Days a record stays in the magnetic store (1-73000). */
  readonly magneticRetentionDays: number;
  /** @default 'readings' */
  readonly tableName?: string;
  /**
   * What happens to the readings when the stack goes away. @default RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE:
   * kept on delete and replacement, deleted when the create that made them rolls back.
   */
  readonly removalPolicy?: RemovalPolicy;
  /** Days an error report of readings the magnetic store refused is kept. @default 90 */
  readonly rejectedReportRetentionDays?: number;
}

/**
 * The CloudFormation Validate plugin flags Timestream resources with W3697: LiveAnalytics is in
 * maintenance mode and closed to new accounts since 2025-06-20.
 */
const maintenanceModeAcknowledgment = {
  id: 'CloudFormation-Validate::W3697',
  reason:
    'Timestream for LiveAnalytics is closed to AWS accounts that did not use it before 2025-06-20; it stays the first storage adapter for accounts that have it, and a second adapter behind the TelemetryStore port comes later',
};

const TIMESTREAM_NAME = /^[a-zA-Z0-9_.-]{3,256}$/;

/**
 * The Timestream for LiveAnalytics database and table that hold the readings: multi-measure
 * records with the building/zone/thing dimensions, magnetic store writes on for late data.
 *
 * - Removal: `RetainExceptOnCreate` (AWS CloudFormation User Guide, "DeletionPolicy
 *   attribute"): readings survive `cdk destroy` and replacement, and a failed first create
 *   leaves nothing behind. The database name carries part of the stack id (lib/names.ts), so
 *   the next stack creates a new database instead of failing on the one kept.
 * - Late readings go to the magnetic store; Timestream rejects some of those asynchronously,
 *   after WriteRecords succeeded, and writes an error report for them to S3
 *   (`MagneticStoreRejectedDataLocation`, AWS CloudFormation User Guide,
 *   "AWS::Timestream::Table MagneticStoreRejectedDataLocation"). The reports go to a bucket of
 *   the stack under `rejected/`, SSE-S3, TLS only, no public access, expired after
 *   `rejectedReportRetentionDays`.
 *
 * - Region: LiveAnalytics runs in a few Regions only (contracts/regions.ts). A stack whose
 *   Region is known at synth time (`env`, or CDK_DEFAULT_REGION through bin/app.ts) is refused
 *   at synth; an environment-agnostic one carries a template rule (AWS CloudFormation User
 *   Guide, "Rules") that CloudFormation checks before it creates anything, so a deploy to
 *   another Region fails at once with the list, never half-created.
 *
 * LIMITATIONS: which S3 permissions Timestream needs on the report bucket is not in the AWS
 * documentation this follows; the bucket has no extra policy for it (see docs/deploy.md).
 */
export class TelemetryTable extends Construct {
  public readonly database: timestream.CfnDatabase;
  public readonly table: timestream.CfnTable;
  public readonly databaseName: string;
  public readonly tableName: string;
  public readonly tableArn: string;
  /** Where Timestream writes reports of readings the magnetic store refused. */
  public readonly rejectedDataBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: TelemetryTableProps) {
    super(scope, id);
    this.tableName = props.tableName ?? 'readings';
    for (const [what, name] of [
      // The 9 characters of '-<suffix>' come on top at deploy time.
      ['database name', `zonectl-${props.buildingId}-00000000`],
      ['tableName', this.tableName],
    ] as const) {
      if (!TIMESTREAM_NAME.test(name)) {
        throw new Error(
          `${this.node.path}: ${what} '${name}' is not a Timestream name; use 3-256 letters, digits, '_', '.' or '-'`,
        );
      }
    }
    checkWholeInRange(this, 'memoryRetentionHours', props.memoryRetentionHours, 1, 8766);
    checkWholeInRange(this, 'magneticRetentionDays', props.magneticRetentionDays, 1, 73000);
    const region = Stack.of(this).region;
    if (!Token.isUnresolved(region)) {
      const problem = liveAnalyticsRegionProblem(region);
      if (problem) throw new Error(`${this.node.path}: ${problem}`);
    }
    new CfnRule(this, 'LiveAnalyticsRegion', {
      assertions: [
        {
          assert: Fn.conditionContains([...LIVE_ANALYTICS_REGIONS], Aws.REGION),
          assertDescription: `Amazon Timestream for LiveAnalytics runs only in ${LIVE_ANALYTICS_REGIONS.join(', ')}; deploy there, or set storage.engine to influxdb in the building config`,
        },
      ],
    });
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE;
    const reportDays = props.rejectedReportRetentionDays ?? 90;
    checkWholeInRange(this, 'rejectedReportRetentionDays', reportDays, 1, 3650);

    this.database = new timestream.CfnDatabase(this, 'Database', {
      databaseName: stackUniqueName(`zonectl-${props.buildingId}`),
    });
    this.databaseName = this.database.ref;
    this.database.applyRemovalPolicy(removalPolicy);
    Validations.of(this.database).acknowledge(maintenanceModeAcknowledgment, {
      id: 'AwsSolutions-TS3',
      reason:
        'Encrypted at rest with the Timestream-owned key; readings carry no personal data, and a customer managed key would add a key, its grants and its cost for no gain here',
    });

    this.rejectedDataBucket = new s3.Bucket(this, 'RejectedData', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: Duration.days(reportDays) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.rejectedDataBucket.node.defaultChild!).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Holds only Timestream error reports of refused late readings, written by the service; access logs of it would need a second bucket and say nothing an operator needs',
    });

    this.table = new timestream.CfnTable(this, 'Table', {
      databaseName: this.databaseName,
      tableName: this.tableName,
      // These two properties are untyped JSON in the L1, so they take CloudFormation's own casing.
      retentionProperties: {
        MemoryStoreRetentionPeriodInHours: String(props.memoryRetentionHours),
        MagneticStoreRetentionPeriodInDays: String(props.magneticRetentionDays),
      },
      magneticStoreWriteProperties: {
        EnableMagneticStoreWrites: true,
        MagneticStoreRejectedDataLocation: {
          S3Configuration: {
            BucketName: this.rejectedDataBucket.bucketName,
            EncryptionOption: 'SSE_S3',
            ObjectKeyPrefix: 'rejected/',
          },
        },
      },
    });
    Validations.of(this.table).acknowledge(maintenanceModeAcknowledgment);
    this.table.applyRemovalPolicy(removalPolicy);
    this.table.addResourceDependency(this.database);
    this.tableArn = this.table.attrArn;
  }

  /**
   * Grants a function timestream:WriteRecords on this table (plus the account-wide
   * DescribeEndpoints that endpoint discovery needs) and tells it the database and table names.
   */
  public grantWriteTo(handler: HandlerFunction): void {
    handler.role.addToPolicy(
      new iam.PolicyStatement({ actions: ['timestream:WriteRecords'], resources: [this.tableArn] }),
    );
    // The one statement that needs resource "*" sits in a policy of its own, so the cdk-nag
    // acknowledgement covers it and nothing that may be added to the role's default policy.
    const endpointDiscovery = new iam.Policy(this, 'EndpointDiscoveryPolicy', {
      statements: [new iam.PolicyStatement({ actions: ['timestream:DescribeEndpoints'], resources: ['*'] })],
    });
    endpointDiscovery.attachToRole(handler.role);
    handler.function.node.addDependency(endpointDiscovery);
    Validations.of(endpointDiscovery.node.defaultChild!).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'timestream:DescribeEndpoints supports no resource-level permissions (Service Authorization Reference, Amazon Timestream: resource "*" only); this policy holds that one statement',
    });
    handler.setEnv(ENV.timestreamDatabase, this.databaseName);
    handler.setEnv(ENV.timestreamTable, this.tableName);
  }
}

function checkWholeInRange(scope: Construct, name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(
      `${scope.node.path}: ${name} ${value} is not a whole number in ${min}-${max}; set storage.${name} in the building config to one`,
    );
  }
}
