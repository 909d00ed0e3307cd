import { Aws, Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ID_PATTERN, METRIC, METRIC_DIMENSION_BUILDING, METRICS_NAMESPACE } from '../contracts';

export interface ObservedFunction {
  /** Short label used in alarm names and dashboard titles, e.g. 'ingest'. */
  readonly label: string;
  readonly function: lambda.IFunction;
}

export interface ObservedRule {
  readonly ruleName: string;
}

export interface ObservedQueue {
  /** Short label used in alarm names and dashboard titles, e.g. 'control'. */
  readonly label: string;
  readonly queue: sqs.IQueue;
  /** Alarm when the oldest message has waited longer than this: its consumer is behind or stuck. */
  readonly maxAge: Duration;
}

export interface ObservabilityProps {
  readonly buildingId: string;
  readonly deadLetterQueue: sqs.IQueue;
  /** Functions whose errors raise an alarm. */
  readonly functions: readonly ObservedFunction[];
  readonly rules: readonly ObservedRule[];
  /** Queues whose oldest message raises an alarm when it waits too long. @default none */
  readonly queues?: readonly ObservedQueue[];
  /**
   * Powertools service name of the function that emits the readings metrics; Powertools
   * Metrics adds it as the `service` dimension next to `building`.
   */
  readonly ingestServiceName: string;
  /** Powertools service name of the zone controller, for its events-versus-decisions graph. @default no graph */
  readonly controllerServiceName?: string;
  /** Period every alarm evaluates. @default Duration.minutes(5) */
  readonly alarmPeriod?: Duration;
}

/**
 * Alarms (dead-letter depth, function errors, readings rejected by the store, rule action
 * failures) that notify one SNS topic, and one CloudWatch dashboard for the building.
 *
 * - The topic's resource policy replaces the default one SNS creates, so it must allow
 *   CloudWatch to publish itself: `cloudwatch.amazonaws.com` may `sns:Publish` for alarms of
 *   this account only (Amazon SNS Developer Guide, "Example cases for Amazon SNS access
 *   control"; confused-deputy conditions `aws:SourceAccount` and `aws:SourceArn`).
 * - Rule action failures: AWS/IoT publishes `Failure` with the dimensions `RuleName` and
 *   `ActionType` (AWS IoT Developer Guide, "AWS IoT metrics and dimensions", Rule action
 *   metrics), and documents no list of `ActionType` values. The alarm therefore sums
 *   `Failure` over every action type of the rule with a CloudWatch Metrics Insights query
 *   (Amazon CloudWatch User Guide, "Create a CloudWatch alarm based on a Metrics Insights
 *   query"), so it never depends on an undocumented dimension value.
 *
 * LIMITATIONS: a Metrics Insights query covers the last three hours of data; the alarm
 * period is far shorter, so this does not matter here.
 */
export class Observability extends Construct {
  public readonly alarmTopic: sns.Topic;
  public readonly alarms: readonly cloudwatch.Alarm[];
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    const { buildingId } = props;
    if (!ID_PATTERN.test(buildingId)) {
      throw new Error(
        `${this.node.path}: buildingId '${buildingId}' is not a building id; use lower-case letters, digits and '-' (1-32)`,
      );
    }
    const period = props.alarmPeriod ?? Duration.minutes(5);
    if (period.toSeconds() < 60 || period.toSeconds() % 60 !== 0) {
      throw new Error(
        `${this.node.path}: alarmPeriod of ${period.toSeconds()} s is not a whole number of minutes; pass e.g. Duration.minutes(5)`,
      );
    }

    // CloudWatch can publish to an encrypted topic only with a customer managed key whose
    // policy lets cloudwatch.amazonaws.com use it (the AWS managed aws/sns key cannot).
    const key = new kms.Key(this, 'AlarmTopicKey', {
      enableKeyRotation: true,
      description: `Encrypts the ${buildingId} alarm topic`,
    });
    key.grant(new iam.ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', {
      displayName: `zonectl ${buildingId} alarms`,
      enforceSSL: true,
      masterKey: key,
    });
    this.alarmTopic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsOfThisAccount',
        effect: iam.Effect.ALLOW,
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.alarmTopic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
          ArnLike: {
            'aws:SourceArn': `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:*`,
          },
        },
      }),
    );
    const notify = new cwActions.SnsAction(this.alarmTopic);

    const alarms: cloudwatch.Alarm[] = [];
    const alarm = (alarmId: string, metric: cloudwatch.IMetric, description: string, threshold = 0) => {
      const a = new cloudwatch.Alarm(this, alarmId, {
        alarmName: `zonectl-${buildingId}-${alarmId}`,
        alarmDescription: description,
        metric,
        threshold,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      a.addAlarmAction(notify);
      alarms.push(a);
      return a;
    };

    const deadLetters = props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
      period,
      statistic: cloudwatch.Stats.MAXIMUM,
    });
    alarm(
      'dead-letters',
      deadLetters,
      'Messages wait in the dead-letter queue: failed rule actions, readings the store refused, or messages the ingest function kept failing',
    );

    const errorMetrics = props.functions.map((f) => {
      const m = f.function.metricErrors({ period, statistic: cloudwatch.Stats.SUM });
      alarm(`${f.label}-errors`, m, `The ${f.label} function failed`);
      return m.with({ label: `${f.label} errors` });
    });

    // Alarm metrics carry no label: a labelled metric renders as a metric-math `Metrics` array.
    const readings = (metricName: string) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { service: props.ingestServiceName, [METRIC_DIMENSION_BUILDING]: buildingId },
        statistic: cloudwatch.Stats.SUM,
        period,
      });
    const rejected = readings(METRIC.readingsRejected);
    alarm(
      'readings-rejected',
      rejected,
      'Timestream rejected readings; they are in the dead-letter queue with the reason',
    );

    const ruleFailures = props.rules.map((r) => {
      const m = ruleActionFailures(r.ruleName, period);
      alarm(`rule-${r.ruleName}-failures`, m, `Topic rule ${r.ruleName} could not run one of its actions`);
      return m.with({ label: `${r.ruleName} failures` });
    });

    // SQS publishes ApproximateAgeOfOldestMessage (Amazon SQS Developer Guide, "Available
    // CloudWatch metrics for Amazon SQS"); its Maximum over the period is the longest wait.
    const queueAges = (props.queues ?? []).map((q) => {
      const m = q.queue.metricApproximateAgeOfOldestMessage({ period, statistic: cloudwatch.Stats.MAXIMUM });
      alarm(
        `${q.label}-backlog`,
        m,
        `The oldest message of the ${q.label} queue has waited over ${q.maxAge.toSeconds()} s: its function is behind or failing`,
        q.maxAge.toSeconds(),
      );
      return m.with({ label: `${q.label} queue` });
    });

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `zonectl-${buildingId}`,
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Readings',
        width: 12,
        left: [
          readings(METRIC.readingsReceived).with({ label: 'received' }),
          readings(METRIC.readingsStored).with({ label: 'stored' }),
          readings(METRIC.readingsInvalid).with({ label: 'invalid' }),
          rejected.with({ label: 'rejected by the store' }),
        ],
      }),
      new cloudwatch.GraphWidget({ title: 'Dead-letter queue depth', width: 12, left: [deadLetters] }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Function invocations and errors',
        width: 12,
        left: props.functions.map((f) =>
          f.function.metricInvocations({ period, label: `${f.label} invocations` }),
        ),
        right: errorMetrics,
      }),
      new cloudwatch.GraphWidget({
        title: 'Function duration (p99)',
        width: 12,
        left: props.functions.map((f) =>
          f.function.metricDuration({ period, statistic: cloudwatch.Stats.p(99), label: f.label }),
        ),
      }),
    );
    const controller = props.controllerServiceName;
    const control = (metricName: string, label: string) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { service: controller ?? '', [METRIC_DIMENSION_BUILDING]: buildingId },
        statistic: cloudwatch.Stats.SUM,
        period,
        label,
      });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Age of the oldest queued message (s)',
        width: 12,
        left: queueAges,
      }),
      ...(controller
        ? [
            new cloudwatch.GraphWidget({
              title: 'Zone controller: control events, zone decisions, commands',
              width: 12,
              left: [
                control(METRIC.controlEvents, 'control events'),
                control(METRIC.controlDecisions, 'zone decisions'),
                control(METRIC.commandsIssued, 'commands issued'),
              ],
            }),
          ]
        : []),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Topic rule action failures', width: 12, left: ruleFailures }),
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', width: 12, alarms }),
    );
    this.alarms = alarms;
  }
}

/**
 * `Failure` of every action of one topic rule, summed over the `ActionType` dimension, as a
 * CloudWatch Metrics Insights query. Rule names are letters, digits and '_' (contracts
 * `ruleName`), so the name needs no escaping inside the quotes.
 */
export function ruleActionFailures(ruleName: string, period: Duration): cloudwatch.MathExpression {
  if (!/^[A-Za-z0-9_]+$/.test(ruleName)) {
    throw new Error(`rule name '${ruleName}' is not a topic rule name; use letters, digits and '_'`);
  }
  return new cloudwatch.MathExpression({
    expression: `SELECT SUM(Failure) FROM SCHEMA("AWS/IoT", ActionType, RuleName) WHERE RuleName = '${ruleName}'`,
    usingMetrics: {},
    period,
  });
}
