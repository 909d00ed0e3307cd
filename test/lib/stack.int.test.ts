import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  COMMAND_SHADOW_NAME,
  COMMAND_SHADOW_RESPONSE_PATTERNS,
  controlRule as controlRuleSql,
  devicesOf,
  ENV,
  IOT_SQL_VERSION,
  ingestRule as ingestRuleSql,
  LIVE_ANALYTICS_REGIONS,
  METRIC,
  METRICS_NAMESPACE,
  ruleName,
  shadowTopicPrefix,
  TELEMETRY_TOPIC_POLICY_TEMPLATE,
  THING_ATTRIBUTE,
  THING_NAME_VARIABLE,
  ZONE_CONTROL_CONFIG_FILE,
  zoneControlConfigOf,
} from '../../contracts';
import { BuildingStack } from '../../lib/building-stack';
import { DeadLetterQueue } from '../../lib/dead-letter-queue';
import { ZoneController } from '../../lib/zone-controller';
import { DEFAULT_IDENTITY } from '../../local/common/account';
import { devicePolicy as localDevicePolicy } from '../helpers/device-policy';
import {
  assetDirOf,
  CDK_CONTEXT,
  iotArnJson,
  loadFixture,
  resolvePseudoParameters,
  synthBuilding,
} from './helpers';

const config = loadFixture();
const building = config.buildingId;
const ingestRule = ruleName(building, 'ingest');
const controlRule = ruleName(building, 'control');
const INGEST_RULE = ingestRuleSql(building);
const CONTROL_RULE = controlRuleSql(building);
const shadow = shadowTopicPrefix(THING_NAME_VARIABLE, COMMAND_SHADOW_NAME);

const iotArn = iotArnJson;

let template: Template;
let stack: BuildingStack;
beforeAll(() => {
  ({ template, stack } = synthBuilding(config));
});

const logicalId = (construct: { node: { defaultChild?: unknown } } | object) =>
  stack.getLogicalId(construct as never);

/** The template resource of an L2 construct (its default child). */
const resource = (construct: { node: { defaultChild?: unknown } }) =>
  template.toJSON().Resources[logicalId(construct.node.defaultChild!)] as {
    Type: string;
    Properties: Record<string, unknown>;
  };

/** The role of the control rule's SQS action. */
const controlActionRole = () => stack.controller.node.findChild('RuleActionRole').node.defaultChild!;

/** The event source mapping that reads `queue`. */
const mappingOf = (queue: { node: { defaultChild?: unknown } }) => {
  const arn = { 'Fn::GetAtt': [logicalId(queue.node.defaultChild!), 'Arn'] };
  const found = Object.values(
    template.findResources('AWS::Lambda::EventSourceMapping', { Properties: { EventSourceArn: arn } }),
  );
  expect(found).toHaveLength(1);
  return found[0] as { Properties: Record<string, unknown> };
};

/** Every statement of the IAM policies attached to `role`. */
const policyStatementsOf = (role: { node: { defaultChild?: unknown } }) =>
  Object.values(
    template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: logicalId(role.node.defaultChild!) }] },
    }),
  ).flatMap((p) => p.Properties.PolicyDocument.Statement as Array<Record<string, unknown>>);

describe('things', () => {
  it('creates one thing per device with its building, zone and kind attributes', () => {
    const devices = devicesOf(config);
    template.resourceCountIs('AWS::IoT::Thing', devices.length);
    for (const d of devices) {
      template.hasResourceProperties('AWS::IoT::Thing', {
        ThingName: d.thing,
        AttributePayload: {
          Attributes: {
            [THING_ATTRIBUTE.building]: building,
            [THING_ATTRIBUTE.zone]: d.zone,
            [THING_ATTRIBUTE.kind]: d.kind,
          },
        },
      });
    }
  });

  it('creates no certificates when no thing has a CSR', () => {
    template.resourceCountIs('AWS::IoT::Certificate', 0);
  });
});

describe('device policy', () => {
  const statements = () => {
    const policies = Object.values(template.findResources('AWS::IoT::Policy'));
    expect(policies).toHaveLength(1);
    return policies[0]!.Properties.PolicyDocument.Statement as Array<Record<string, unknown>>;
  };

  it('lets a client connect only as its own thing, and only with an attached certificate', () => {
    expect(statements()).toContainEqual(
      expect.objectContaining({
        Effect: 'Allow',
        Action: 'iot:Connect',
        Resource: iotArn(`client/${THING_NAME_VARIABLE}`),
        Condition: { Bool: { 'iot:Connection.Thing.IsAttached': 'true' } },
      }),
    );
  });

  it('lets a device publish only its own telemetry topic and its command shadow requests', () => {
    expect(statements()).toContainEqual(
      expect.objectContaining({
        Action: 'iot:Publish',
        Resource: [
          iotArn(`topic/${TELEMETRY_TOPIC_POLICY_TEMPLATE}`),
          iotArn(`topic/${shadow}/get`),
          iotArn(`topic/${shadow}/update`),
        ],
      }),
    );
  });

  it('takes the telemetry topic zone and building from thing attributes, not from the device', () => {
    const attribute = (name: string) => `\${iot:Connection.Thing.Attributes[${name}]}`;
    expect(TELEMETRY_TOPIC_POLICY_TEMPLATE).toContain(attribute(THING_ATTRIBUTE.zone));
    expect(TELEMETRY_TOPIC_POLICY_TEMPLATE).toContain(attribute(THING_ATTRIBUTE.building));
  });

  it('lets a device subscribe to and receive only its own command shadow responses', () => {
    expect(statements()).toContainEqual(
      expect.objectContaining({
        Action: 'iot:Subscribe',
        Resource: COMMAND_SHADOW_RESPONSE_PATTERNS.map((r) => iotArn(`topicfilter/${shadow}/${r}`)),
      }),
    );
    expect(statements()).toContainEqual(
      expect.objectContaining({
        Action: 'iot:Receive',
        Resource: COMMAND_SHADOW_RESPONSE_PATTERNS.map((r) => iotArn(`topic/${shadow}/${r}`)),
      }),
    );
  });

  it('deploys the very document the local broker tests attach, once its ARNs are resolved for the local account', () => {
    const policies = Object.values(template.findResources('AWS::IoT::Policy'));
    const resolved = resolvePseudoParameters(policies[0]!.Properties.PolicyDocument, DEFAULT_IDENTITY);
    expect(resolved).toEqual(localDevicePolicy(DEFAULT_IDENTITY));
  });

  it('has no wildcard actions, no # resources and no Fn::Sub around policy variables', () => {
    const text = JSON.stringify(statements());
    for (const s of statements()) expect(String(s.Action)).not.toContain('*');
    expect(text).not.toContain('#');
    expect(text).not.toContain('Fn::Sub');
  });

  it("uses * only for the response topics of the thing's own command shadow", () => {
    const wildcards = [...JSON.stringify(statements()).matchAll(/:(topic(?:filter)?\/[^"]*\*[^"]*)"/g)].map(
      (m) => m[1],
    );
    expect(wildcards.sort()).toEqual(
      ['topic', 'topicfilter']
        .flatMap((type) => COMMAND_SHADOW_RESPONSE_PATTERNS.map((r) => `${type}/${shadow}/${r}`))
        .sort(),
    );
  });
});

describe('topic rules', () => {
  it('sends telemetry to the ingest queue with the contract SQL and an explicit SQL version', () => {
    template.hasResourceProperties('AWS::IoT::TopicRule', {
      RuleName: ingestRule,
      TopicRulePayload: {
        Sql: INGEST_RULE.sql,
        AwsIotSqlVersion: IOT_SQL_VERSION,
        Actions: [{ Sqs: { QueueUrl: { Ref: logicalId(stack.ingest.queue.node.defaultChild!) } } }],
      },
    });
  });

  it('sends control events to the control queue with the contract SQL, an explicit SQL version and its own role', () => {
    template.hasResourceProperties('AWS::IoT::TopicRule', {
      RuleName: controlRule,
      TopicRulePayload: {
        Sql: CONTROL_RULE.sql,
        AwsIotSqlVersion: CONTROL_RULE.awsIotSqlVersion,
        RuleDisabled: false,
        Actions: [
          {
            Sqs: {
              QueueUrl: { Ref: logicalId(stack.controller.queue.node.defaultChild!) },
              RoleArn: { 'Fn::GetAtt': [logicalId(controlActionRole()), 'Arn'] },
              UseBase64: false,
            },
          },
        ],
      },
    });
  });

  it('gives every rule an error action to the dead-letter queue', () => {
    const dlq = { Ref: logicalId(stack.deadLetterQueue.queue.node.defaultChild!) };
    const rules = template.findResources('AWS::IoT::TopicRule');
    expect(Object.keys(rules)).toHaveLength(2);
    for (const rule of Object.values(rules)) {
      expect(rule.Properties.TopicRulePayload.ErrorAction.Sqs.QueueUrl).toEqual(dlq);
    }
  });

  it('lets the error action role only send to the dead-letter queue', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: logicalId(stack.deadLetterQueue.ruleErrorActionRole.node.defaultChild!) }],
      PolicyDocument: {
        Statement: [
          {
            Action: 'sqs:SendMessage',
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': [logicalId(stack.deadLetterQueue.queue.node.defaultChild!), 'Arn'] },
          },
        ],
      },
    });
  });

  it('lets no topic rule invoke a function directly: both paths go through queues', () => {
    template.resourceCountIs('AWS::Lambda::Permission', 0);
  });

  it('lets the control rule role, assumed only by AWS IoT of this account, send only to the control queue', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { Service: 'iot.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          },
        ],
      },
      Description: 'Lets the control topic rule send control events to the control queue',
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: logicalId(controlActionRole()) }],
      PolicyDocument: {
        Statement: [
          {
            Action: 'sqs:SendMessage',
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': [logicalId(stack.controller.queue.node.defaultChild!), 'Arn'] },
          },
        ],
      },
    });
  });
});

describe('ingest queue and function', () => {
  it('delivers batches of 100 with partial batch failure reporting and a batching window', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: Match.anyValue(),
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('moves a message to the dead-letter queue after 5 receives', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: {
        deadLetterTargetArn: {
          'Fn::GetAtt': [logicalId(stack.deadLetterQueue.queue.node.defaultChild!), 'Arn'],
        },
        maxReceiveCount: 5,
      },
    });
  });

  it('keeps the visibility timeout at least 6x the function timeout', () => {
    const timeout = resource(stack.ingest.handler.function).Properties.Timeout as number;
    expect(resource(stack.ingest.queue).Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * timeout);
  });

  it('encrypts all three queues with SQS-managed keys and keeps dead letters 14 days', () => {
    template.resourcePropertiesCountIs('AWS::SQS::Queue', { SqsManagedSseEnabled: true }, 3);
    template.hasResourceProperties('AWS::SQS::Queue', { MessageRetentionPeriod: 14 * 24 * 3600 });
  });

  it('refuses non-TLS access to all three queues', () => {
    template.resourcePropertiesCountIs(
      'AWS::SQS::QueuePolicy',
      {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      },
      3,
    );
  });

  it('runs the ingest function on nodejs22.x arm64 with the contract environment', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Environment: {
        Variables: {
          [ENV.timestreamDatabase]: { Ref: logicalId(stack.telemetryTable!.database) },
          [ENV.timestreamTable]: stack.telemetryTable!.tableName,
          [ENV.deadLetterQueueUrl]: { Ref: logicalId(stack.deadLetterQueue.queue.node.defaultChild!) },
          [ENV.buildingId]: building,
          [ENV.powertoolsServiceName]: 'zonectl-ingest',
          [ENV.powertoolsMetricsNamespace]: METRICS_NAMESPACE,
        },
      },
    });
  });

  it('keeps the one statement with resource "*" (DescribeEndpoints) in a policy of its own', () => {
    const role = { Ref: logicalId(stack.ingest.handler.role.node.defaultChild!) };
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
      JSON.stringify(p.Properties.Roles).includes(JSON.stringify(role)),
    );
    const wildcard = policies.filter((p) =>
      JSON.stringify(p.Properties.PolicyDocument).includes('"Resource":"*"'),
    );
    expect(wildcard).toHaveLength(1);
    expect(wildcard[0]!.Properties.PolicyDocument.Statement).toEqual([
      { Action: 'timestream:DescribeEndpoints', Effect: 'Allow', Resource: '*' },
    ]);
  });

  it('lets the ingest function write only to its table, plus DescribeEndpoints and the dead-letter queue', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: logicalId(stack.ingest.handler.role.node.defaultChild!) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Action: 'timestream:WriteRecords',
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': [logicalId(stack.telemetryTable!.table), 'Arn'] },
          },
          {
            Action: 'sqs:SendMessage',
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': [logicalId(stack.deadLetterQueue.queue.node.defaultChild!), 'Arn'] },
          },
        ]),
      },
    });
  });
});

describe('zone controller', () => {
  it('takes the control queue in batches of 10 as soon as events are there, reporting failed items', () => {
    const mapping = mappingOf(stack.controller.queue);
    expect(mapping.Properties).toEqual({
      BatchSize: 10,
      EventSourceArn: { 'Fn::GetAtt': [logicalId(stack.controller.queue.node.defaultChild!), 'Arn'] },
      FunctionName: { Ref: logicalId(stack.controller.handler.function.node.defaultChild!) },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      MaximumBatchingWindowInSeconds: 0,
    });
  });

  it('keeps control events on an encrypted queue that moves one the controller failed 5 times to the dead-letter queue', () => {
    const timeout = resource(stack.controller.handler.function).Properties.Timeout as number;
    expect(resource(stack.controller.queue)).toEqual({
      Type: 'AWS::SQS::Queue',
      Properties: {
        RedrivePolicy: {
          deadLetterTargetArn: {
            'Fn::GetAtt': [logicalId(stack.deadLetterQueue.queue.node.defaultChild!), 'Arn'],
          },
          maxReceiveCount: 5,
        },
        SqsManagedSseEnabled: true,
        // Lambda's guidance for SQS event sources: at least six times the function timeout
        VisibilityTimeout: 6 * timeout,
      },
      UpdateReplacePolicy: 'Delete',
      DeletionPolicy: 'Delete',
    });
  });

  it('lets the controller consume only the control queue', () => {
    const statements = policyStatementsOf(stack.controller.handler.role).filter((st) =>
      JSON.stringify(st.Action).includes('sqs:'),
    );
    expect(statements).toEqual([
      {
        // what Lambda's poller needs (ReceiveMessage, DeleteMessage, GetQueueAttributes), plus
        // the visibility change and URL lookup of the CDK's grantConsumeMessages
        Action: [
          'sqs:ChangeMessageVisibility',
          'sqs:DeleteMessage',
          'sqs:GetQueueAttributes',
          'sqs:GetQueueUrl',
          'sqs:ReceiveMessage',
        ],
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [logicalId(stack.controller.queue.node.defaultChild!), 'Arn'] },
      },
    ]);
  });

  it('alarms when the oldest control event has waited over 5 minutes', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: `zonectl-${building}-control-backlog`,
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [logicalId(stack.controller.queue.node.defaultChild!), 'QueueName'] },
        },
      ],
      Statistic: 'Maximum',
      Threshold: 300,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    });
  });

  it("looks up the account's own IoT data endpoint at deploy time", () => {
    template.hasResourceProperties('Custom::AWS', {
      Create: Match.serializedJson(
        Match.objectLike({
          service: 'Iot',
          action: 'describeEndpoint',
          parameters: { endpointType: 'iot:Data-ATS' },
        }),
      ),
    });
  });

  it('gets the building id and the name of its config file, not the config itself', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Environment: {
        Variables: {
          [ENV.buildingId]: building,
          [ENV.configFile]: ZONE_CONTROL_CONFIG_FILE,
          [ENV.iotDataEndpoint]: {
            'Fn::GetAtt': [Match.stringLikeRegexp('^ControllerIotDataEndpointLookup'), 'endpointAddress'],
          },
          [ENV.powertoolsServiceName]: 'zonectl-controller',
          [ENV.powertoolsMetricsNamespace]: METRICS_NAMESPACE,
        },
      },
    });
  });

  it('ships the zone control config as a file in its asset', () => {
    const dir = assetDirOf(stack, stack.controller.handler.function);
    const shipped = JSON.parse(readFileSync(join(dir, ZONE_CONTROL_CONFIG_FILE), 'utf8'));
    expect(shipped).toEqual(JSON.parse(JSON.stringify(zoneControlConfigOf(config))));
  });

  it("may read and update only the command shadows of this building's things, by one pattern", () => {
    const expected = [iotArn(`thing/${building}-*/${COMMAND_SHADOW_NAME}`)];
    const policy = Object.values(
      template.findResources('AWS::IAM::Policy', {
        Properties: { Roles: [{ Ref: logicalId(stack.controller.handler.role.node.defaultChild!) }] },
      }),
    )[0]!;
    const shadowStatements = (
      policy.Properties.PolicyDocument.Statement as Array<Record<string, unknown>>
    ).filter((st) => JSON.stringify(st.Action).includes('Shadow'));
    expect(shadowStatements).toHaveLength(1);
    expect(shadowStatements[0]!.Action).toEqual(['iot:GetThingShadow', 'iot:UpdateThingShadow']);
    expect(shadowStatements[0]!.Resource).toEqual(expected[0]);
  });

  it("runs on the function's own clock unless the deployment names the readings' clock", () => {
    const controllerEnv = (t: Template) =>
      Object.values(t.findResources('AWS::Lambda::Function'))
        .map((f) => f.Properties.Environment?.Variables as Record<string, string> | undefined)
        .find((v) => v?.[ENV.configFile] !== undefined);
    expect(controllerEnv(template)).not.toHaveProperty(ENV.buildingClock);
    const scope = new Stack(new App(), 'Simulated');
    const controller = new ZoneController(scope, 'Controller', {
      config,
      deadLetterQueue: new DeadLetterQueue(scope, 'DeadLetters'),
      buildingClock: 'readings',
    });
    expect(controller.handler.node.id).toBe('Handler');
    expect(controllerEnv(Template.fromStack(scope))).toMatchObject({ [ENV.buildingClock]: 'readings' });
  });
});

describe('Timestream', () => {
  it('names the database after the building and part of the stack id, so it never collides with a kept one', () => {
    template.hasResourceProperties('AWS::Timestream::Database', {
      DatabaseName: {
        'Fn::Join': [
          '-',
          [
            `zonectl-${building}`,
            {
              'Fn::Select': [
                0,
                {
                  'Fn::Split': ['-', { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] }],
                },
              ],
            },
          ],
        ],
      },
    });
    template.hasResourceProperties('AWS::Timestream::Table', {
      DatabaseName: { Ref: logicalId(stack.telemetryTable!.database) },
      TableName: 'readings',
    });
  });

  it('writes error reports of late readings the magnetic store refuses to an encrypted bucket', () => {
    const bucket = { Ref: logicalId(stack.telemetryTable!.rejectedDataBucket.node.defaultChild!) };
    template.hasResourceProperties('AWS::Timestream::Table', {
      MagneticStoreWriteProperties: {
        EnableMagneticStoreWrites: true,
        MagneticStoreRejectedDataLocation: {
          S3Configuration: { BucketName: bucket, EncryptionOption: 'SSE_S3', ObjectKeyPrefix: 'rejected/' },
        },
      },
    });
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
  });

  it('checks before creating anything that the Region offers LiveAnalytics', () => {
    const rules = template.toJSON().Rules as Record<string, { Assertions: Array<Record<string, unknown>> }>;
    const rule = Object.entries(rules).find(([id]) => id.startsWith('TelemetryLiveAnalyticsRegion'))?.[1];
    expect(rule?.Assertions[0]).toEqual({
      Assert: { 'Fn::Contains': [[...LIVE_ANALYTICS_REGIONS], { Ref: 'AWS::Region' }] },
      AssertDescription: expect.stringContaining('eu-central-1'),
    });
  });

  it('refuses at synth a stack in a Region without LiveAnalytics, naming the Regions that have it', () => {
    const app = new App({ context: CDK_CONTEXT, builtinCloudFormationValidation: false });
    expect(
      () =>
        new BuildingStack(app, 'Zonectl-elsewhere', {
          config,
          env: { region: 'eu-north-1' },
        }),
    ).toThrow(/not offered in eu-north-1; it runs in us-east-1, .*ap-south-1.*storage.*influxdb/);
  });

  it('sets memory and magnetic retention from the config and enables magnetic store writes', () => {
    template.hasResourceProperties('AWS::Timestream::Table', {
      RetentionProperties: {
        MemoryStoreRetentionPeriodInHours: String(config.storage.memoryRetentionHours),
        MagneticStoreRetentionPeriodInDays: String(config.storage.magneticRetentionDays),
      },
      MagneticStoreWriteProperties: { EnableMagneticStoreWrites: true },
    });
  });

  it('keeps the readings when the stack is deleted or replaces them, not when their first create fails', () => {
    for (const type of ['AWS::Timestream::Table', 'AWS::Timestream::Database']) {
      template.hasResource(type, { DeletionPolicy: 'RetainExceptOnCreate', UpdateReplacePolicy: 'Retain' });
    }
  });
});

describe('observability', () => {
  it('alarms on any message in the dead-letter queue', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('alarms on errors of each function', () => {
    template.resourcePropertiesCountIs(
      'AWS::CloudWatch::Alarm',
      { Namespace: 'AWS/Lambda', MetricName: 'Errors' },
      2,
    );
  });

  it('alarms on readings rejected by the store, by building', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: METRICS_NAMESPACE,
      MetricName: METRIC.readingsRejected,
      Dimensions: Match.arrayWith([{ Name: 'building', Value: building }]),
    });
  });

  it('alarms on action failures of each topic rule, summed over every documented ActionType', () => {
    for (const name of [ingestRule, controlRule]) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Metrics: [
          {
            Expression: `SELECT SUM(Failure) FROM SCHEMA("AWS/IoT", ActionType, RuleName) WHERE RuleName = '${name}'`,
            Id: Match.anyValue(),
            Period: 300,
            ReturnData: true,
          },
        ],
      });
    }
    template.resourcePropertiesCountIs('AWS::CloudWatch::Alarm', { Namespace: 'AWS/IoT' }, 0);
  });

  it('lets CloudWatch alarms of this account, and no one else, publish to the alarm topic', () => {
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Sid: 'AllowCloudWatchAlarmsOfThisAccount',
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Resource: { Ref: logicalId(stack.observability.alarmTopic.node.defaultChild!) },
            Condition: {
              StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
              ArnLike: {
                'aws:SourceArn': {
                  'Fn::Join': [
                    '',
                    [
                      'arn:',
                      { Ref: 'AWS::Partition' },
                      ':cloudwatch:',
                      { Ref: 'AWS::Region' },
                      ':',
                      { Ref: 'AWS::AccountId' },
                      ':alarm:*',
                    ],
                  ],
                },
              },
            },
          },
        ]),
      },
    });
  });

  it('alarms when the oldest ingest message has waited over 15 minutes', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: `zonectl-${building}-ingest-backlog`,
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [logicalId(stack.ingest.queue.node.defaultChild!), 'QueueName'] },
        },
      ],
      Threshold: 900,
    });
  });

  it('notifies an SSL-only topic from every alarm', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    const topic = { Ref: logicalId(stack.observability.alarmTopic.node.defaultChild!) };
    for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toEqual([topic]);
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('creates one dashboard for the building', () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: `zonectl-${building}` });
  });

  it('keeps function logs in explicit log groups with a retention', () => {
    template.resourcePropertiesCountIs('AWS::Logs::LogGroup', { RetentionInDays: 30 }, 2);
  });
});

describe('outputs', () => {
  it('outputs the dead-letter queue, Timestream names and rule names', () => {
    template.hasOutput('DeadLetterQueueUrl', {
      Value: { Ref: logicalId(stack.deadLetterQueue.queue.node.defaultChild!) },
    });
    template.hasOutput('TimestreamDatabase', { Value: { Ref: logicalId(stack.telemetryTable!.database) } });
    template.hasOutput('TimestreamTable', { Value: 'readings' });
    template.hasOutput('IngestRuleName', { Value: ingestRule });
    template.hasOutput('ControlQueueUrl', {
      Value: { Ref: logicalId(stack.controller.queue.node.defaultChild!) },
    });
    template.hasOutput('ControlRuleName', { Value: controlRule });
  });
});

describe('device policy size', () => {
  it('stays within the AWS IoT policy document limit in the longest region', async () => {
    const { devicePolicySize, MAX_IOT_POLICY_CHARACTERS } = await import('../../contracts');
    expect(devicePolicySize()).toBeLessThanOrEqual(MAX_IOT_POLICY_CHARACTERS);
  });
});
