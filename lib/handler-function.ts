import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AssetHashType, DockerImage, Duration, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
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
}

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

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs ${props.serviceName}`,
    });
    this.logGroup.grantWrite(this.role);

    const entry = props.entry;
    this.function = new lambda.Function(this, 'Function', {
      code: lambda.Code.fromAsset(dirname(entry), {
        assetHashType: AssetHashType.OUTPUT,
        bundling: {
          // Never pulled: the local bundling below either succeeds or fails the synth.
          image: DockerImage.fromRegistry('public.ecr.aws/sam/build-nodejs22.x'),
          local: {
            tryBundle(outputDir) {
              bundleHandler(entry, outputDir);
              return true;
            },
          },
        },
      }),
      handler: 'index.handler',
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      timeout,
      memorySize,
      role: this.role,
      logGroup: this.logGroup,
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
