import { describe, expect, it } from 'vitest';
import { controlRule } from '../../../contracts';
import { AwsServiceError } from '../../../local/common/aws-error';
import { checkRuleName, normaliseTopicRulePayload, parseAction } from '../../../local/rules';

const CONTROL_RULE = controlRule('hq');

describe('topic rule payloads', () => {
  it('normalises the CloudFormation PascalCase shape to the IoT API shape', () => {
    const cfn = {
      Sql: CONTROL_RULE.sql,
      AwsIotSqlVersion: CONTROL_RULE.awsIotSqlVersion,
      RuleDisabled: false,
      Actions: [
        { Lambda: { FunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:f' } },
        { Sqs: { QueueUrl: 'http://localhost/q', RoleArn: 'arn:r', UseBase64: false } },
        { Republish: { Topic: 'x/y', Qos: 1, RoleArn: 'arn:r' } },
      ],
      ErrorAction: { Sqs: { QueueUrl: 'http://localhost/dlq', RoleArn: 'arn:r' } },
    };
    expect(normaliseTopicRulePayload(cfn)).toEqual({
      sql: CONTROL_RULE.sql,
      awsIotSqlVersion: CONTROL_RULE.awsIotSqlVersion,
      ruleDisabled: false,
      actions: [
        { lambda: { functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:f' } },
        { sqs: { queueUrl: 'http://localhost/q', roleArn: 'arn:r', useBase64: false } },
        { republish: { topic: 'x/y', qos: 1, roleArn: 'arn:r' } },
      ],
      errorAction: { sqs: { queueUrl: 'http://localhost/dlq', roleArn: 'arn:r' } },
    });
  });

  it('rejects a payload without sql', () => {
    expect(() => normaliseTopicRulePayload({ actions: [] })).toThrow(/sql is required/);
  });

  it('rejects an unsupported action, naming it', () => {
    expect(() => parseAction({ timestream: { databaseName: 'd' } }, 'actions[0]')).toThrow(
      /actions\[0\] uses the timestream action, which the local rules engine does not emulate/,
    );
  });

  it('rejects an action that sets two action types', () => {
    expect(() => parseAction({ lambda: { functionArn: 'a' }, sqs: { queueUrl: 'q' } }, 'actions[0]')).toThrow(
      /exactly one action type/,
    );
  });

  it('rejects a republish QoS other than 0 or 1', () => {
    expect(() => parseAction({ republish: { topic: 't', qos: 2 } }, 'actions[0]')).toThrow(
      /qos must be 0 or 1/,
    );
  });

  it('rejects a payload without actions, as both the IoT API and CloudFormation require them', () => {
    expect(() => normaliseTopicRulePayload({ sql: "SELECT * FROM 'a'" })).toThrow(
      /topicRulePayload.actions is required/,
    );
  });

  it('rejects a payload with more than 10 actions', () => {
    const actions = Array.from({ length: 11 }, () => ({ sqs: { queueUrl: 'q' } }));
    expect(() => normaliseTopicRulePayload({ sql: "SELECT * FROM 'a'", actions })).toThrow(
      /at most 10 actions/,
    );
  });

  it('rejects a rule name with a hyphen as InvalidRequestException', () => {
    let caught: unknown;
    try {
      checkRuleName('my-rule');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(AwsServiceError);
    expect(caught).toMatchObject({ code: 'InvalidRequestException', status: 400 });
  });
});
