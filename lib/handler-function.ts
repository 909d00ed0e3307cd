import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, Stage, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ENV, type EnvName, METRICS_NAMESPACE } from '../contracts';

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
}

const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/**
 * A Lambda function bundled from TypeScript by the local esbuild (never Docker), on Node.js 22
 * and arm64, with its own log group and a role that may write only to that log group.
 *
 * The bundle is self-contained (the AWS SDK included, CommonJS `index.js`), so the local cloud
 * can run the asset straight from the cloud assembly.
 */
export class HandlerFunction extends Construct {
  public readonly function: nodejs.NodejsFunction;
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
    const files = stageFiles(this, props.files ?? {});

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs ${props.serviceName}`,
    });
    this.logGroup.grantWrite(this.role);

    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: props.entry,
      handler: 'handler',
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      timeout,
      memorySize,
      role: this.role,
      logGroup: this.logGroup,
      projectRoot: REPO_ROOT,
      depsLockFilePath: fileURLToPath(new URL('../package-lock.json', import.meta.url)),
      environment: {
        [ENV.powertoolsServiceName]: props.serviceName,
        [ENV.powertoolsMetricsNamespace]: METRICS_NAMESPACE,
      },
      bundling: {
        externalModules: [],
        minify: true,
        sourceMap: false,
        format: nodejs.OutputFormat.CJS,
        target: 'node22',
        forceDockerBundling: false,
        logLevel: nodejs.LogLevel.WARNING,
        // The files go into the asset after esbuild; the asset hash is of the output, so a
        // changed file is a new asset.
        ...(files.length > 0
          ? {
              commandHooks: {
                beforeBundling: () => [],
                beforeInstall: () => [],
                afterBundling: (_input: string, output: string) =>
                  files.map(({ source, name }) =>
                    process.platform === 'win32'
                      ? `copy "${source}" "${join(output, name)}"`
                      : `cp "${source}" "${join(output, name)}"`,
                  ),
              },
            }
          : {}),
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

/**
 * Writes the files into the cloud assembly's output directory (under `.zonectl-files/`, one
 * folder per content hash), where the bundling step copies them from.
 */
function stageFiles(
  scope: Construct,
  files: Readonly<Record<string, string>>,
): Array<{ name: string; source: string }> {
  const out: Array<{ name: string; source: string }> = [];
  for (const [name, content] of Object.entries(files)) {
    if (!FILE_NAME.test(name) || name === 'index.js') {
      throw new Error(
        `${scope.node.path}: '${name}' is not a file name for the function's asset; use letters, digits, '.', '_' and '-' (not index.js)`,
      );
    }
    const hash = createHash('sha256').update(name).update('\0').update(content).digest('hex').slice(0, 24);
    // Absolute: the bundling commands run in the project root, not where the app was started.
    const dir = resolve(Stage.of(scope)?.outdir ?? REPO_ROOT, '.zonectl-files', hash);
    mkdirSync(dir, { recursive: true });
    const source = join(dir, name);
    writeFileSync(source, content);
    out.push({ name, source });
  }
  return out;
}
