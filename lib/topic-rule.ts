import * as iot from 'aws-cdk-lib/aws-iot';
import type { Construct } from 'constructs';
import type { RuleSql } from '../contracts';

export interface TopicRuleProps {
  /** Letters, digits and underscores (contracts `ruleName`). */
  readonly ruleName: string;
  readonly description: string;
  /** The statement with its SQL version, from contracts/rules.ts. */
  readonly rule: RuleSql;
  readonly action: iot.CfnTopicRule.ActionProperty;
  /** Where a failed action's message goes (the dead-letter queue's `ruleErrorAction`). */
  readonly errorAction: iot.CfnTopicRule.ActionProperty;
}

/**
 * An enabled AWS::IoT::TopicRule with one action and an error action. The SQL version always
 * goes with the SQL: CloudFormation takes an omitted AwsIotSqlVersion as 2015-10-08 (AWS
 * CloudFormation Template Reference, "AWS::IoT::TopicRule TopicRulePayload").
 */
export function topicRule(scope: Construct, id: string, props: TopicRuleProps): iot.CfnTopicRule {
  return new iot.CfnTopicRule(scope, id, {
    ruleName: props.ruleName,
    topicRulePayload: {
      description: props.description,
      sql: props.rule.sql,
      awsIotSqlVersion: props.rule.awsIotSqlVersion,
      ruleDisabled: false,
      actions: [props.action],
      errorAction: props.errorAction,
    },
  });
}
