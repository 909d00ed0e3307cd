import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AssetHashType, DockerImage, Duration, type FingerprintOptions, Validations } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import { ENV, type EnvName, METRICS_NAMESPACE } from '../contracts';
import { bundleHandler } from './handler-bundle';

/** The repository root, where lambda/ and package-lock.json live. */
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Absolute path of a handler entry inside the repository, e.g. `lambdaEntry('ingest')`. */
export function lambdaEntry(fn: string): string {
  return fileURLToPath(new URL(`../lambda/${fn}/handler.ts`, import.meta.url));
}

export interface HandlerFunctionProps {
  /** Absolute path of the TypeScript entry file; it must export `handler`. */
  readonly entry: string;
  /** Powertools service name (POWERTOOLS_SERVICE_NAME), also the `service` metric dimension. */
  readonly serviceName: string;
  /** What the function does, for people reading the console. */
  readonly description: string;
  /** @default Duration.seconds(30) */
  readonly timeout?: Duration;
  /** @default 256 */
  readonly memorySize?: number;
  /** How long the function's log group keeps events. @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Files to ship beside the bundle in the function's asset, by file name (e.g. a building's
   * device inventory): read at run time from the task root, they carry what does not fit in
   * Lambda's 4 KB of environment variables. @default - none
   */
  readonly files?: Readonly<Record<string, string>>;
  /** Run inside a VPC, in these subnets with these security groups. @default - no VPC */
  readonly network?: FunctionNetwork;
}

/** Where a function runs inside a VPC. */
export interface FunctionNetwork {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly securityGroups: readonly ec2.ISecurityGroup[];
}

const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/**
 * A Lambda function bundled from TypeScript by the local esbuild (never Docker), on Node.js 22
 * and arm64, with its own log group and a role that may write only to that log group.
 *
 * The bundle is one CommonJS `index.js` (lib/handler-bundle.ts) without the AWS SDK, which
 * the nodejs22.x runtime provides (AWS Lambda Developer Guide, "Building Lambda functions with
 * Node.js"); the local cloud runs the asset straight from the cloud assembly and provides the
 * SDK the same way. The asset hash is the hash of the bundle, so an unchanged bundle is not
 * uploaded again.
 */
export class HandlerFunction extends Construct {
  public readonly function: lambda.Function;
  public readonly role: iam.Role;
  public readonly logGroup: logs.LogGroup;
  public readonly timeout: Duration;
  public readonly serviceName: string;

  constructor(scope: Construct, id: string, props: HandlerFunctionProps) {
    super(scope, id);
    const timeout = props.timeout ?? Duration.seconds(30);
    const memorySize = props.memorySize ?? 256;
    if (timeout.toSeconds() < 1 || timeout.toSeconds() > 900) {
      throw new Error(
        `${this.node.path}: timeout of ${timeout.toSeconds()} s is outside Lambda's 1-900 s; pass a timeout in that range`,
      );
    }
    if (!Number.isInteger(memorySize) || memorySize < 128 || memorySize > 10240) {
      throw new Error(
        `${this.node.path}: memorySize ${memorySize} is outside Lambda's 128-10240 MB; pass a whole number of MB in that range`,
      );
    }
    if (!props.entry.endsWith('.ts')) {
      throw new Error(
        `${this.node.path}: entry '${props.entry}' is not a TypeScript file; pass the handler.ts path`,
      );
    }
    this.timeout = timeout;
    this.serviceName = props.serviceName;
    const files = checkFileNames(this, props.files ?? {});

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs ${props.serviceName}`,
    });
    this.logGroup.grantWrite(this.role);
    if (props.network) {
      // Lambda creates the function's network interfaces in the VPC with the function's role
      // (Lambda Developer Guide, "Giving Lambda functions access to resources in an Amazon
      // VPC", required IAM permissions; AWS managed policy AWSLambdaVPCAccessExecutionRole).
      this.role.addManagedPolicy(
        iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaVPCAccessExecutionRole'),
      );
      Validations.of(this.role.node.defaultChild!).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
        reason:
          'Lambda needs the EC2 network-interface actions of this AWS managed policy to place the function in the VPC; they support no narrower resources for DescribeNetworkInterfaces, and AWS keeps the list current',
      });
    }

    const entry = props.entry;
    // Typed with the core's FingerprintOptions for `extraHash`, which the asset passes on to its
    // staging (AssetStaging takes FingerprintOptions); fromAsset's own type leaves it out.
    const assetOptions: s3assets.AssetOptions & FingerprintOptions = {
      assetHashType: AssetHashType.OUTPUT,
      // The CDK reuses a bundle within one synth by source folder and options; the entry and
      // the files are part of what makes this bundle, so two functions of one entry with
      // different files (a controller per building) get bundles of their own.
      extraHash: bundleKey(entry, files),
      bundling: {
        // Never pulled: the local bundling below either succeeds or fails the synth.
        image: DockerImage.fromRegistry('public.ecr.aws/sam/build-nodejs22.x'),
        local: {
          tryBundle(outputDir) {
            bundleHandler(entry, outputDir);
            // The files go into the asset beside index.js; the asset hash is of this output,
            // so a changed file is a new asset.
            for (const [name, content] of files) writeFileSync(join(outputDir, name), content);
            return true;
          },
        },
      },
    };
    this.function = new lambda.Function(this, 'Function', {
      code: lambda.Code.fromAsset(dirname(entry), assetOptions),
      handler: 'index.handler',
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      timeout,
      memorySize,
      role: this.role,
      logGroup: this.logGroup,
      ...(props.network
        ? {
            vpc: props.network.vpc,
            vpcSubnets: props.network.subnets,
            securityGroups: [...props.network.securityGroups],
            allowPublicSubnet: false,
          }
        : {}),
      environment: {
        [ENV.powertoolsServiceName]: props.serviceName,
        [ENV.powertoolsMetricsNamespace]: METRICS_NAMESPACE,
      },
    });
    Validations.of(this.function.node.defaultChild as lambda.CfnFunction).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Pinned to nodejs22.x on purpose: the handlers are built and tested for Node.js 22 (target node22); move to a newer runtime deliberately, with the bundle target',
    });
  }

  /** Sets one of the contract's environment variables on the function. */
  public setEnv(name: EnvName, value: string): void {
    this.function.addEnvironment(name, value);
  }
}

function bundleKey(entry: string, files: ReadonlyArray<[string, string]>): string {
  // The entry relative to the repository, so the asset hash is the same in every checkout.
  const hash = createHash('sha256').update(relative(REPO_ROOT, entry).replaceAll('\\', '/'));
  for (const [name, content] of files) hash.update('\0').update(name).update('\0').update(content);
  return hash.digest('hex');
}

/** Checks the names of the files to ship beside the bundle; returns them as [name, content]. */
function checkFileNames(
  scope: Construct,
  files: Readonly<Record<string, string>>,
): Array<[name: string, content: string]> {
  for (const name of Object.keys(files)) {
    if (!FILE_NAME.test(name) || name === 'index.js') {
      throw new Error(
        `${scope.node.path}: '${name}' is not a file name for the function's asset; use letters, digits, '.', '_' and '-' (not index.js)`,
      );
    }
  }
  return Object.entries(files);
}
