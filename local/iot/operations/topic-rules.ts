/**
 * Topic rules (AWS IoT API Reference: CreateTopicRule, ReplaceTopicRule, GetTopicRule,
 * ListTopicRules, DeleteTopicRule).
 */
import { topicPatternOf } from '../registry';
import type { TopicRulePayload } from '../types';
import { label, type Operation, ok, queryBool, queryInt, seconds, withToken } from './binding';

/** `topicRulePayload` is the HTTP payload (httpPayload trait): the body is the payload itself. */
function rulePayload(body: Record<string, unknown>): TopicRulePayload {
  const wrapped = body.topicRulePayload;
  if (body.sql === undefined && typeof wrapped === 'object' && wrapped !== null && !Array.isArray(wrapped)) {
    return wrapped as TopicRulePayload;
  }
  return body as unknown as TopicRulePayload;
}

export const TOPIC_RULE_OPERATIONS: readonly Operation[] = [
  {
    name: 'CreateTopicRule',
    method: 'POST',
    segments: ['rules', '{}'],
    handle: (ctx) => {
      ctx.registry.createTopicRule(label(ctx, 0), rulePayload(ctx.body()));
      return ok();
    },
  },
  {
    name: 'ReplaceTopicRule',
    method: 'PATCH',
    segments: ['rules', '{}'],
    handle: (ctx) => {
      ctx.registry.replaceTopicRule(label(ctx, 0), rulePayload(ctx.body()));
      return ok();
    },
  },
  {
    name: 'GetTopicRule',
    method: 'GET',
    segments: ['rules', '{}'],
    handle: (ctx) => {
      const { ruleArn, ...rule } = ctx.registry.getTopicRule(label(ctx, 0));
      return ok({ ruleArn, rule: { ...rule, createdAt: seconds(rule.createdAt) } });
    },
  },
  {
    name: 'ListTopicRules',
    method: 'GET',
    segments: ['rules'],
    handle: ({ req, registry }) => {
      const topic = req.query.get('topic') ?? undefined;
      const ruleDisabled = queryBool(req, 'ruleDisabled');
      const nextToken = req.query.get('nextToken') ?? undefined;
      const maxResults = queryInt(req, 'maxResults');
      const page = registry.listTopicRules({
        ...(topic !== undefined ? { topic } : {}),
        ...(ruleDisabled !== undefined ? { ruleDisabled } : {}),
        ...(nextToken ? { nextToken } : {}),
        ...(maxResults !== undefined ? { maxResults } : {}),
      });
      return ok({
        rules: page.items.map((r) => ({
          ruleArn: r.ruleArn,
          ruleName: r.ruleName,
          topicPattern: topicPatternOf(r.sql),
          createdAt: seconds(r.createdAt),
          ruleDisabled: r.ruleDisabled,
        })),
        ...withToken('nextToken', page.next),
      });
    },
  },
  {
    name: 'DeleteTopicRule',
    method: 'DELETE',
    segments: ['rules', '{}'],
    handle: (ctx) => {
      ctx.registry.deleteTopicRule(label(ctx, 0));
      return ok();
    },
  },
];
