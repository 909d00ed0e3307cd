import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as iot from 'aws-cdk-lib/aws-iot';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  type BuildingClock,
  type BuildingConfig,
  COMMAND_SHADOW_NAME,
  controlRule,
  ENV,
  ruleName,
  thingNamePrefix,
  ZONE_CONTROL_CONFIG_FILE,
  zoneControlConfigOf,
} from '../contracts';
import type { DeadLetterQueue } from './dead-letter-queue';
import { iotArn } from './device-policy';
import { HandlerFunction, lambdaEntry } from './handler-function';
import { IotDataEndpoint } from './iot-data-endpoint';
import { ruleQueue } from './rule-queue';
import { topicRule } from './topic-rule';
import { acknowledgeIotPatterns } from './wildcard-acknowledgement';

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
   * Which clock is the building's: 'wall', the function's own (AWS), or 'readings', the
   * readings' timestamps, for a simulated building on simulated time (the demo). @default 'wall'
   */
  readonly buildingClock?: BuildingClock;
  /**
   * Host of the account's AWS IoT data endpoint. @default - looked up at deploy time
   * (lib/iot-data-endpoint.ts)
   */
  readonly iotDataEndpoint?: string;
  /**
   * Control events per invocation, 1-10000. The controller decides once per zone of a batch,
   * so a bigger batch saves decisions under load; above 10 it needs a batching window, which
   * delays every command by up to that window. @default 10
   */
  readonly batchSize?: number;
  /** How long Lambda gathers a batch; 0 invokes as soon as events are there. @default Duration.seconds(0) */
  readonly maxBatchingWindow?: Duration;
  /** Receives before a control event the controller keeps failing on moves to the dead-letter queue. @default 5 */
  readonly maxReceiveCount?: number;
}

/**
 * The control path: this building's telemetry topic rule -> SQS control queue -> zone
 * controller function (event source mapping, batches with partial batch failure reporting),
 * which decides once per zone of a batch and writes `desired` on the command shadow of the
 * zone's actuators. It calls the account's own IoT data endpoint (ENV.iotDataEndpoint), never
 * the shared test endpoint.
 *
 * Why a queue and not the rule's asynchronous Lambda action: the rule invokes an action once per
 * message, so the controller's cost followed the telemetry rate, and an event that still failed
 * after Lambda's two asynchronous retries was discarded. From the queue the controller takes
 * batches (AWS Lambda Developer Guide, "Using Lambda with Amazon SQS"), decides each zone once
 * from its latest readings, and an event it keeps failing on moves to the building's dead-letter
 * queue after `maxReceiveCount` receives (Amazon SQS Developer Guide, "Using dead-letter queues
 * in Amazon SQS"), where the dead-letter alarm sees it. A failed rule action goes there too,
 * through the rule's error action. The rule's filter names the building, so a building's queue
 * holds only its own control events.
 *
 * Nothing here grows with the fleet: the zone control config ships as a file in the function's
 * asset (not in an environment variable, which Lambda caps at 4 KB for all of them), and the
 * function may read and update the `commands` named shadow of this building's things by one
 * pattern, `thing/<buildingId>-<any name>/commands` (AWS IoT Developer Guide, "AWS IoT Core
 * action resources": a named shadow's resource is `thing/<thingName>/<shadowName>`), never a list.
 */
export class ZoneController extends Construct {
  public readonly handler: HandlerFunction;
  /** The control queue the rule sends control events to and the controller takes in batches. */
  public readonly queue: sqs.Queue;
  public readonly topicRule: iot.CfnTopicRule;
  public readonly ruleName: string;
  /** The ARN pattern of the shadows the function may read and update (this building's command shadows). */
  public readonly shadowArns: readonly string[];

  constructor(scope: Construct, id: string, props: ZoneControllerProps) {
    super(scope, id);
    const { config } = props;
    const controlConfig = `${JSON.stringify(zoneControlConfigOf(config))}\n`;

    this.handler = new HandlerFunction(this, 'Handler', {
      entry: props.entry ?? lambdaEntry('controller'),
      serviceName: props.serviceName ?? 'zonectl-controller',
      description: `Turns ${config.buildingId} zone readings into actuator commands on the command shadows`,
      timeout: props.functionTimeout,
      logRetention: props.logRetention,
      files: { [ZONE_CONTROL_CONFIG_FILE]: controlConfig },
    });
    this.handler.setEnv(ENV.buildingId, config.buildingId);
    this.handler.setEnv(ENV.configFile, ZONE_CONTROL_CONFIG_FILE);
    // Only a simulated building sets it; the function's own clock is the default.
    if (props.buildingClock === 'readings') this.handler.setEnv(ENV.buildingClock, props.buildingClock);
    this.handler.setEnv(
      ENV.iotDataEndpoint,
      props.iotDataEndpoint ?? new IotDataEndpoint(this, 'IotDataEndpoint').address,
    );

    const shadows = `thing/${thingNamePrefix(config.buildingId)}*/${COMMAND_SHADOW_NAME}`;
    this.shadowArns = [iotArn(shadows)];
    this.handler.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['iot:GetThingShadow', 'iot:UpdateThingShadow'],
        resources: [...this.shadowArns],
      }),
    );
    acknowledgeIotPatterns(
      this.handler.role,
      [shadows],
      "The command shadows of this building's things, by the building's thing-name prefix: a list would grow with the fleet and outgrow IAM's policy size",
    );

    const fed = ruleQueue(this, {
      consumer: this.handler,
      deadLetterQueue: props.deadLetterQueue,
      batchSize: props.batchSize ?? 10,
      maxBatchingWindow: props.maxBatchingWindow ?? Duration.seconds(0),
      maxReceiveCount: props.maxReceiveCount ?? 5,
      actionRoleDescription: 'Lets the control topic rule send control events to the control queue',
    });
    this.queue = fed.queue;

    this.ruleName = ruleName(config.buildingId, 'control');
    this.topicRule = topicRule(this, 'Rule', {
      ruleName: this.ruleName,
      description: `Telemetry of ${config.buildingId} to the zone controller's queue`,
      rule: controlRule(config.buildingId),
      action: fed.action,
      errorAction: props.deadLetterQueue.ruleErrorAction,
    });
  }
}
