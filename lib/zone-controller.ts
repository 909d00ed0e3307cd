import { Aws, type Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as iot from 'aws-cdk-lib/aws-iot';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import {
  actuatorsOf,
  type BuildingConfig,
  COMMAND_SHADOW_NAME,
  CONTROL_RULE,
  ENV,
  MAX_ZONE_CONTROL_CONFIG_BYTES,
  ruleName,
  zoneControlConfigOf,
} from '../contracts';
import type { DeadLetterQueue } from './dead-letter-queue';
import { iotArn } from './device-policy';
import { HandlerFunction, lambdaEntry } from './handler-function';
import { IotDataEndpoint } from './iot-data-endpoint';
import { topicRule } from './topic-rule';

export interface ZoneControllerProps {
  readonly config: BuildingConfig;
  readonly deadLetterQueue: DeadLetterQueue;
  /** @default lambda/controller/handler.ts in this repository */
  readonly entry?: string;
  /** @default Duration.seconds(30) */
  readonly functionTimeout?: Duration;
  /** Powertools service name. @default 'zonectl-controller' */
  readonly serviceName?: string;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Host of the account's AWS IoT data endpoint. @default - looked up at deploy time
   * (lib/iot-data-endpoint.ts)
   */
  readonly iotDataEndpoint?: string;
}

/**
 * The control path: telemetry topic rule -> zone controller function (asynchronous Lambda
 * action), which writes `desired` on the command shadow of the zone's actuators. The function
 * may read and update only those shadows, through the account's own IoT data endpoint
 * (ENV.iotDataEndpoint), never the shared test endpoint.
 */
export class ZoneController extends Construct {
  public readonly handler: HandlerFunction;
  public readonly topicRule: iot.CfnTopicRule;
  public readonly ruleName: string;
  /** ARNs the function may read and update shadows of (thing and named command shadow). */
  public readonly shadowArns: readonly string[];

  constructor(scope: Construct, id: string, props: ZoneControllerProps) {
    super(scope, id);
    const { config } = props;
    const controlConfig = JSON.stringify(zoneControlConfigOf(config));
    const bytes = Buffer.byteLength(controlConfig, 'utf8');
    if (bytes > MAX_ZONE_CONTROL_CONFIG_BYTES) {
      throw new Error(
        `${this.node.path}: the zone control config of building '${config.buildingId}' is ${bytes} bytes, over the ${MAX_ZONE_CONTROL_CONFIG_BYTES} bytes that fit in ${ENV.zoneControlConfig}; split the building into several config files or shorten thing names`,
      );
    }

    this.handler = new HandlerFunction(this, 'Handler', {
      entry: props.entry ?? lambdaEntry('controller'),
      serviceName: props.serviceName ?? 'zonectl-controller',
      description: `Turns ${config.buildingId} zone readings into actuator commands on the command shadows`,
      timeout: props.functionTimeout,
      logRetention: props.logRetention,
    });
    this.handler.setEnv(ENV.buildingId, config.buildingId);
    this.handler.setEnv(ENV.zoneControlConfig, controlConfig);
    this.handler.setEnv(
      ENV.iotDataEndpoint,
      props.iotDataEndpoint ?? new IotDataEndpoint(this, 'IotDataEndpoint').address,
    );

    this.shadowArns = actuatorsOf(config).flatMap((a) => [
      iotArn(`thing/${a.thing}`),
      iotArn(`thing/${a.thing}/${COMMAND_SHADOW_NAME}`),
    ]);
    if (this.shadowArns.length > 0) {
      this.handler.role.addToPolicy(
        new iam.PolicyStatement({
          actions: ['iot:GetThingShadow', 'iot:UpdateThingShadow'],
          resources: [...this.shadowArns],
        }),
      );
    }

    this.ruleName = ruleName(config.buildingId, 'control');
    this.topicRule = topicRule(this, 'Rule', {
      ruleName: this.ruleName,
      description: `Telemetry of ${config.buildingId} to the zone controller`,
      rule: CONTROL_RULE,
      action: { lambda: { functionArn: this.handler.function.functionArn } },
      errorAction: props.deadLetterQueue.ruleErrorAction,
    });
    this.handler.function.addPermission('AllowControlRule', {
      principal: new iam.ServicePrincipal('iot.amazonaws.com'),
      action: 'lambda:InvokeFunction',
      sourceArn: this.topicRule.attrArn,
      sourceAccount: Aws.ACCOUNT_ID,
    });
  }
}
