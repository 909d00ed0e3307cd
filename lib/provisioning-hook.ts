import { Aws, Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import {
  type BuildingConfig,
  ENV,
  PROVISIONING_INVENTORY_FILE,
  provisioningInventoryOf,
  refusalTopic,
  thingNamePrefix,
} from '../contracts';
import { iotArn } from './device-policy';
import { HandlerFunction, lambdaEntry } from './handler-function';
import { IotDataEndpoint } from './iot-data-endpoint';
import { acknowledgeIotPatterns } from './wildcard-acknowledgement';

export interface ProvisioningHookProps {
  readonly config: BuildingConfig;
  /** @default lambda/provisioning-hook/handler.ts in this repository */
  readonly entry?: string;
  /** Powertools service name. @default 'zonectl-provisioning-hook' */
  readonly serviceName?: string;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * The building's pre-provisioning hook (AWS IoT Developer Guide, "Pre-provisioning hooks"):
 * a function AWS IoT calls on every RegisterThing through the building's template, which
 * allows only the devices of the building's inventory, in their zone.
 *
 * - The inventory ships as a file in the function's asset (Lambda allows 4 KB of environment
 *   variables in all; a building of 2,000 devices needs far more).
 * - Timeout 5 s: AWS IoT fails the request when the hook has not answered by then.
 * - It may list the principals of this building's things and describe certificates (to tell a
 *   device re-provisioning with its own key from another key taking over a thing), and publish
 *   on the building's refusal topics (the reason of a refusal, for the device).
 * - iot.amazonaws.com may invoke it from this account only (`aws:SourceAccount`, as "Pre-
 *   provisioning hooks" and "Cross-service confused deputy prevention" advise).
 *
 * LIMITATIONS: the source condition is the account, not the template's ARN: AWS does not
 * document which ARN IoT presents as `aws:SourceArn` when it invokes a hook.
 */
export class ProvisioningHook extends Construct {
  public readonly handler: HandlerFunction;

  constructor(scope: Construct, id: string, props: ProvisioningHookProps) {
    super(scope, id);
    const { config } = props;
    this.handler = new HandlerFunction(this, 'Handler', {
      entry: props.entry ?? lambdaEntry('provisioning-hook'),
      serviceName: props.serviceName ?? 'zonectl-provisioning-hook',
      description: `Allows only the devices of ${config.buildingId}'s inventory to provision themselves`,
      timeout: Duration.seconds(5),
      logRetention: props.logRetention,
      files: { [PROVISIONING_INVENTORY_FILE]: `${JSON.stringify(provisioningInventoryOf(config))}\n` },
    });
    this.handler.setEnv(ENV.buildingId, config.buildingId);
    this.handler.setEnv(ENV.configFile, PROVISIONING_INVENTORY_FILE);
    // The refusal is published through the account's own data endpoint, as the controller's calls are.
    this.handler.setEnv(ENV.iotDataEndpoint, new IotDataEndpoint(this, 'IotDataEndpoint').address);

    const role = this.handler.role;
    const things = `thing/${thingNamePrefix(config.buildingId)}*`;
    const refusals = `topic/${refusalTopic(config.buildingId, '*')}`;
    role.addToPolicy(
      new iam.PolicyStatement({ actions: ['iot:ListThingPrincipals'], resources: [iotArn(things)] }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({ actions: ['iot:DescribeCertificate'], resources: [iotArn('cert/*')] }),
    );
    role.addToPolicy(new iam.PolicyStatement({ actions: ['iot:Publish'], resources: [iotArn(refusals)] }));
    acknowledgeIotPatterns(
      role,
      [things, 'cert/*', refusals],
      "This building's things by their name prefix; certificates are made by devices at provisioning time, so their ids cannot be listed in advance; one refusal topic per claim connection, under the building's prefix",
    );

    this.handler.function.addPermission('AllowIotProvisioning', {
      principal: new iam.ServicePrincipal('iot.amazonaws.com'),
      action: 'lambda:InvokeFunction',
      sourceAccount: Aws.ACCOUNT_ID,
    });
  }
}
