import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as timestream from 'aws-cdk-lib/aws-timestream';
import { Construct } from 'constructs';
import { ENV } from '../contracts';
import type { HandlerFunction } from './handler-function';

export interface TelemetryTableProps {
  /** Building id; the database is named `zonectl-<buildingId>`. */
  readonly buildingId: string;
  /** Hours a record stays in the memory store (1-8766); older writes need magnetic store writes. */
  readonly memoryRetentionHours: number;
  /** Days a record stays in the magnetic store (1-73000). */
  readonly magneticRetentionDays: number;
  /** @default 'readings' */
  readonly tableName?: string;
  /** What happens to the readings when the stack goes away. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
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
 */
export class TelemetryTable extends Construct {
  public readonly database: timestream.CfnDatabase;
  public readonly table: timestream.CfnTable;
  public readonly databaseName: string;
  public readonly tableName: string;
  public readonly tableArn: string;

  constructor(scope: Construct, id: string, props: TelemetryTableProps) {
    super(scope, id);
    this.databaseName = `zonectl-${props.buildingId}`;
    this.tableName = props.tableName ?? 'readings';
    for (const [what, name] of [
      ['database name', this.databaseName],
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
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.database = new timestream.CfnDatabase(this, 'Database', { databaseName: this.databaseName });
    this.database.applyRemovalPolicy(removalPolicy);
    Validations.of(this.database).acknowledge(maintenanceModeAcknowledgment, {
      id: 'AwsSolutions-TS3',
      reason:
        'Encrypted at rest with the Timestream-owned key; readings carry no personal data, and a customer managed key would add a key, its grants and its cost for no gain here',
    });

    this.table = new timestream.CfnTable(this, 'Table', {
      databaseName: this.databaseName,
      tableName: this.tableName,
      // These two properties are untyped JSON in the L1, so they take CloudFormation's own casing.
      retentionProperties: {
        MemoryStoreRetentionPeriodInHours: String(props.memoryRetentionHours),
        MagneticStoreRetentionPeriodInDays: String(props.magneticRetentionDays),
      },
      magneticStoreWriteProperties: { EnableMagneticStoreWrites: true },
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
    handler.role.addToPolicy(
      new iam.PolicyStatement({ actions: ['timestream:DescribeEndpoints'], resources: ['*'] }),
    );
    const policy = handler.role.node.tryFindChild('DefaultPolicy')?.node.defaultChild;
    if (policy) {
      Validations.of(policy).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'timestream:DescribeEndpoints supports no resource-level permissions (the Service Authorization Reference lists resource "*" only); every other statement is scoped',
      });
    }
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
