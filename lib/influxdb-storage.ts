import { CustomResource, Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as timestream from 'aws-cdk-lib/aws-timestream';
import { Construct } from 'constructs';
import { ENV, type InfluxDbSettings } from '../contracts';
import {
  type FunctionNetwork,
  HandlerFunction as Handler,
  type HandlerFunction,
  lambdaEntry,
} from './handler-function';
import { stackUniqueName } from './names';
import type { ReadingsStore } from './readings-store';

export interface InfluxDbStorageProps {
  readonly buildingId: string;
  /** The `storage.influxdb` block of the building config (contracts InfluxDbSettingsSchema). */
  readonly settings: InfluxDbSettings;
}

/** Organization and bucket the instance is created with; the readings go to the bucket. */
export const INFLUXDB_ORGANIZATION = 'zonectl';
export const INFLUXDB_BUCKET = 'readings';
const ADMIN_USERNAME = 'zonectladmin';

/**
 * Readings in Amazon Timestream for InfluxDB: one InfluxDB 2 DB instance
 * (AWS::Timestream::InfluxDBInstance) in private subnets, reached only by the functions that
 * need it, and two API tokens made at deploy time.
 *
 * Why an instance and not AWS::Timestream::InfluxDBCluster: a cluster is either InfluxDB 2
 * with read replicas, which needs a paid AWS Marketplace add-on, or InfluxDB 3 chosen through
 * a parameter group, which CloudFormation cannot create, with Core keeping recent data only
 * and Enterprise licensed through the Marketplace (AWS CloudFormation Template Reference,
 * "AWS::Timestream::InfluxDBCluster"; Timestream Developer Guide, "Read replica licensing
 * through AWS Marketplace", "Amazon Timestream for InfluxDB 3"). One v2 instance needs no
 * Marketplace terms and fits a building's readings; a Multi-AZ standby is one setting away.
 *
 * - Network: a new VPC with two isolated subnets and no NAT gateway (or the subnets of an
 *   existing VPC). Security groups: the instance accepts its port only from the functions'
 *   group; the ingest function may reach only the instance and the interface endpoints
 *   (Secrets Manager for its token, SQS for dead letters; AWS PrivateLink, "Access AWS services
 *   through AWS PrivateLink"); the token step may also reach S3 through the gateway endpoint
 *   for its answer to CloudFormation.
 * - Credentials: the admin password is generated into a Secrets Manager secret (letters and
 *   digits only, as the service requires) and reaches the instance as a dynamic reference, never
 *   as text in the template. The service creates no API token, so a custom resource
 *   (lambda/influxdb-tokens) signs in as the admin once per deploy and stores a write-only and
 *   a read-only token for the bucket in two secrets; the ingest function reads only the
 *   write token's secret.
 * - Removal: the instance is kept on delete and replacement, not when its first create fails;
 *   its name carries part of the stack id (lib/names.ts), so a new stack never collides.
 *
 * LIMITATIONS: no instance log delivery to S3; the admin secret is not rotated (the instance's
 * password is fixed at create, AWS::Timestream::InfluxDBInstance `Password`: replacement).
 */
export class InfluxDbStorage extends Construct implements ReadingsStore {
  public readonly engine = 'influxdb' as const;
  public readonly instance: timestream.CfnInfluxDBInstance;
  public readonly vpc: ec2.IVpc;
  public readonly url: string;
  public readonly organization = INFLUXDB_ORGANIZATION;
  public readonly bucket = INFLUXDB_BUCKET;
  public readonly adminSecret: secretsmanager.Secret;
  public readonly writeTokenSecret: secretsmanager.Secret;
  public readonly readTokenSecret: secretsmanager.Secret;
  /** Where the ingest function runs. */
  public readonly functionNetwork: FunctionNetwork;
  public readonly tokenStep: Handler;
  readonly #endpoints: Construct[] = [];
  readonly #tokens: CustomResource;

  constructor(scope: Construct, id: string, props: InfluxDbStorageProps) {
    super(scope, id);
    const s = props.settings;

    // ---- network -------------------------------------------------------------------------
    let subnets: ec2.SubnetSelection;
    if (s.vpc) {
      this.vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
        vpcId: s.vpc.vpcId,
        availabilityZones: s.vpc.subnets.map((x) => x.availabilityZone),
        isolatedSubnetIds: s.vpc.subnets.map((x) => x.subnetId),
      });
      subnets = {
        subnets: s.vpc.subnets.map((x, i) =>
          ec2.Subnet.fromSubnetAttributes(this, `Subnet${i}`, {
            subnetId: x.subnetId,
            availabilityZone: x.availabilityZone,
          }),
        ),
      };
    } else {
      const vpc = new ec2.Vpc(this, 'Vpc', {
        maxAzs: 2,
        natGateways: 0,
        subnetConfiguration: [{ name: 'private', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 }],
        flowLogs: { rejected: { trafficType: ec2.FlowLogTrafficType.REJECT } },
      });
      this.vpc = vpc;
      subnets = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
    }
    const createEndpoints = s.vpc?.createEndpoints ?? true;

    const databaseGroup = new ec2.SecurityGroup(this, 'DatabaseSecurityGroup', {
      vpc: this.vpc,
      description: `InfluxDB of ${props.buildingId}: its port from the zonectl functions only`,
      allowAllOutbound: false,
    });
    const ingestGroup = new ec2.SecurityGroup(this, 'IngestSecurityGroup', {
      vpc: this.vpc,
      description: `zonectl ingest function of ${props.buildingId}: InfluxDB and the AWS endpoints only`,
      allowAllOutbound: false,
    });
    const tokenGroup = new ec2.SecurityGroup(this, 'TokenStepSecurityGroup', {
      vpc: this.vpc,
      description: `zonectl InfluxDB token step of ${props.buildingId}: InfluxDB, the AWS endpoints and S3`,
      allowAllOutbound: false,
    });
    for (const group of [ingestGroup, tokenGroup]) {
      databaseGroup.addIngressRule(group, ec2.Port.tcp(s.port), 'InfluxDB API from zonectl functions');
      group.addEgressRule(databaseGroup, ec2.Port.tcp(s.port), 'InfluxDB API');
    }
    if (createEndpoints) {
      const endpointGroup = new ec2.SecurityGroup(this, 'EndpointSecurityGroup', {
        vpc: this.vpc,
        description: `AWS interface endpoints of ${props.buildingId}: HTTPS from the zonectl functions`,
        allowAllOutbound: false,
      });
      for (const group of [ingestGroup, tokenGroup]) {
        endpointGroup.addIngressRule(group, ec2.Port.tcp(443), 'HTTPS from zonectl functions');
        group.addEgressRule(endpointGroup, ec2.Port.tcp(443), 'AWS interface endpoints');
      }
      for (const [name, service] of [
        ['SecretsManagerEndpoint', ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER],
        ['SqsEndpoint', ec2.InterfaceVpcEndpointAwsService.SQS],
      ] as const) {
        this.#endpoints.push(
          new ec2.InterfaceVpcEndpoint(this, name, {
            vpc: this.vpc,
            service,
            subnets,
            securityGroups: [endpointGroup],
            privateDnsEnabled: true,
            open: false,
          }),
        );
      }
      // CloudFormation's response URL is a presigned S3 URL; the gateway endpoint carries it.
      this.#endpoints.push(
        new ec2.GatewayVpcEndpoint(this, 'S3Endpoint', {
          vpc: this.vpc,
          service: ec2.GatewayVpcEndpointAwsService.S3,
          subnets: [subnets],
        }),
      );
      tokenGroup.addEgressRule(
        ec2.Peer.anyIpv4(),
        ec2.Port.tcp(443),
        'S3 for the CloudFormation response URL (the isolated subnets route only to the S3 gateway endpoint)',
      );
    } else {
      // An existing VPC brings its own way to the AWS APIs (endpoints or a NAT gateway).
      for (const group of [ingestGroup, tokenGroup]) {
        group.addEgressRule(
          ec2.Peer.anyIpv4(),
          ec2.Port.tcp(443),
          "AWS APIs through the VPC's own endpoints or NAT",
        );
      }
    }
    this.functionNetwork = { vpc: this.vpc, subnets, securityGroups: [ingestGroup] };

    // ---- credentials and instance ---------------------------------------------------------
    this.adminSecret = new secretsmanager.Secret(this, 'AdminCredentials', {
      description: `InfluxDB admin user of ${props.buildingId} (the instance's own secret holds the same)`,
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ username: ADMIN_USERNAME }),
        generateStringKey: 'password',
        // The service accepts 8-64 letters and digits only (AWS::Timestream::InfluxDBInstance Password).
        excludePunctuation: true,
        includeSpace: false,
        passwordLength: 40,
      },
    });
    const tokenSecret = (name: string, what: string) =>
      new secretsmanager.Secret(this, name, {
        description: `${what} API token of the ${props.buildingId} readings bucket, written by the token step`,
      });
    this.writeTokenSecret = tokenSecret('WriteToken', 'Write-only');
    this.readTokenSecret = tokenSecret('ReadToken', 'Read-only');
    for (const secret of [this.adminSecret, this.writeTokenSecret, this.readTokenSecret]) {
      Validations.of(secret.node.defaultChild!).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'The admin password is fixed when the instance is created (Password requires replacement), and the two tokens are made again by the token step on every deploy; a Secrets Manager rotation would only make the secret disagree with the database',
      });
    }

    const shortId = props.buildingId.replace(/-+/g, '-').slice(0, 22).replace(/-$/, '');
    this.instance = new timestream.CfnInfluxDBInstance(this, 'Instance', {
      name: stackUniqueName(`zonectl-${shortId}`),
      dbInstanceType: s.instanceType,
      allocatedStorage: s.storageGiB,
      dbStorageType: s.storageType,
      deploymentType: s.deploymentType,
      port: s.port,
      networkType: 'IPV4',
      publiclyAccessible: false,
      organization: INFLUXDB_ORGANIZATION,
      bucket: INFLUXDB_BUCKET,
      username: this.adminSecret.secretValueFromJson('username').unsafeUnwrap(),
      password: this.adminSecret.secretValueFromJson('password').unsafeUnwrap(),
      vpcSubnetIds: this.vpc.selectSubnets(subnets).subnetIds,
      vpcSecurityGroupIds: [databaseGroup.securityGroupId],
    });
    this.instance.applyRemovalPolicy(RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE);
    this.url = `https://${this.instance.attrEndpoint}:${s.port}`;

    // ---- token step ----------------------------------------------------------------------
    this.tokenStep = new Handler(this, 'TokenStep', {
      entry: lambdaEntry('influxdb-tokens'),
      serviceName: 'zonectl-influxdb-tokens',
      description: `Issues the write and read tokens of the ${props.buildingId} InfluxDB bucket`,
      timeout: Duration.minutes(2),
      network: { vpc: this.vpc, subnets, securityGroups: [tokenGroup] },
    });
    this.adminSecret.grantRead(this.tokenStep.role);
    this.writeTokenSecret.grantWrite(this.tokenStep.role);
    this.readTokenSecret.grantWrite(this.tokenStep.role);
    for (const e of this.#endpoints) this.tokenStep.function.node.addDependency(e);
    this.#tokens = new CustomResource(this, 'Tokens', {
      serviceToken: this.tokenStep.function.functionArn,
      resourceType: 'Custom::InfluxDbTokens',
      properties: {
        AdminSecretArn: this.adminSecret.secretArn,
        Url: this.url,
        Organization: INFLUXDB_ORGANIZATION,
        Bucket: INFLUXDB_BUCKET,
        RetentionSeconds: String(s.retentionDays * 86400),
        WriteTokenSecretArn: this.writeTokenSecret.secretArn,
        ReadTokenSecretArn: this.readTokenSecret.secretArn,
      },
    });
    this.#tokens.node.addDependency(this.instance);
  }

  /** Grants the function the write token's secret and tells it where to write. */
  public grantWriteTo(handler: HandlerFunction): void {
    this.writeTokenSecret.grantRead(handler.role);
    handler.setEnv(ENV.storageEngine, this.engine);
    handler.setEnv(ENV.influxDbUrl, this.url);
    handler.setEnv(ENV.influxDbOrganization, INFLUXDB_ORGANIZATION);
    handler.setEnv(ENV.influxDbBucket, INFLUXDB_BUCKET);
    handler.setEnv(ENV.influxDbTokenSecretArn, this.writeTokenSecret.secretArn);
    // The function starts writing only once its token exists and its endpoints answer.
    handler.function.node.addDependency(this.#tokens);
    for (const e of this.#endpoints) handler.function.node.addDependency(e);
  }
}
