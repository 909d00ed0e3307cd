/**
 * Topic rule payloads as CreateTopicRule takes them (AWS IoT API reference, TopicRulePayload;
 * camelCase), and the CloudFormation shape (AWS::IoT::TopicRule TopicRulePayload; PascalCase)
 * the deployer reads from the template, normalised to the former.
 *
 * LIMITATIONS versus AWS: only the lambda, republish and sqs actions run; every other action
 * type is refused when the rule is created, naming the action. Republish `headers` (MQTT 5
 * properties) are accepted but not delivered, because the local broker speaks MQTT 3.1.1.
 */
import { RULE_NAME_PATTERN } from '../../contracts';
import { invalidRequest } from './errors';

export interface LambdaAction {
  readonly functionArn: string;
}
export interface RepublishAction {
  readonly topic: string;
  readonly qos?: 0 | 1;
  readonly roleArn?: string;
  readonly headers?: Record<string, unknown>;
}
export interface SqsAction {
  readonly queueUrl: string;
  readonly roleArn?: string;
  readonly useBase64?: boolean;
}

/** One action: exactly one member is set, as in the IoT API. */
export interface TopicRuleAction {
  readonly lambda?: LambdaAction;
  readonly republish?: RepublishAction;
  readonly sqs?: SqsAction;
  readonly [other: string]: unknown;
}

export interface TopicRulePayload {
  readonly sql: string;
  readonly description?: string;
  readonly awsIotSqlVersion?: string;
  readonly ruleDisabled?: boolean;
  readonly actions: readonly TopicRuleAction[];
  readonly errorAction?: TopicRuleAction;
}

/** A validated action the engine can run. */
export type RuleAction =
  | { readonly type: 'lambda'; readonly functionArn: string }
  | { readonly type: 'republish'; readonly topic: string; readonly qos: 0 | 1 }
  | { readonly type: 'sqs'; readonly queueUrl: string; readonly useBase64: boolean };

export const SUPPORTED_ACTIONS = ['lambda', 'republish', 'sqs'] as const;

/** Rule names (CreateTopicRule ruleName): ^[a-zA-Z0-9_]+$, 1-128 characters. */
export function checkRuleName(name: string): void {
  if (!RULE_NAME_PATTERN.test(name)) {
    throw invalidRequest(
      `rule name '${name}' is invalid: use 1-128 letters, digits and underscores (no hyphens)`,
    );
  }
}

const lowerFirst = (s: string) => (s.length > 0 ? s[0]!.toLowerCase() + s.slice(1) : s);

/** Turns PascalCase keys into camelCase, recursively (CloudFormation -> IoT API shape). */
function camelKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(camelKeys);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [lowerFirst(k), camelKeys(x)]));
  }
  return v;
}

/**
 * Accepts a TopicRulePayload in the IoT API shape (`sql`, `actions: [{lambda: {functionArn}}]`)
 * or the CloudFormation shape (`Sql`, `Actions: [{Lambda: {FunctionArn}}]`) and returns the API
 * shape. CloudFormation booleans that arrive as "true"/"false" strings are converted.
 */
export function normaliseTopicRulePayload(input: unknown): TopicRulePayload {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw invalidRequest('topicRulePayload must be an object');
  }
  const p = camelKeys(input) as Record<string, unknown>;
  if (typeof p.sql !== 'string' || p.sql.trim() === '') {
    throw invalidRequest('topicRulePayload.sql is required and must be a non-empty string');
  }
  // Required in both shapes (TopicRulePayload in the IoT API Reference and CloudFormation).
  const actions = p.actions;
  if (actions === undefined) throw invalidRequest('topicRulePayload.actions is required');
  if (!Array.isArray(actions)) throw invalidRequest('topicRulePayload.actions must be an array');
  if (actions.length > 10)
    throw invalidRequest(`a rule has at most 10 actions; this one has ${actions.length}`);
  const bool = (v: unknown, field: string): boolean | undefined => {
    if (v === undefined || typeof v === 'boolean') return v;
    if (v === 'true' || v === 'false') return v === 'true';
    throw invalidRequest(`${field} must be a boolean, got ${JSON.stringify(v)}`);
  };
  const ruleDisabled = bool(p.ruleDisabled, 'ruleDisabled');
  return {
    sql: p.sql,
    actions: actions as TopicRuleAction[],
    ...(typeof p.description === 'string' ? { description: p.description } : {}),
    ...(typeof p.awsIotSqlVersion === 'string' ? { awsIotSqlVersion: p.awsIotSqlVersion } : {}),
    ...(ruleDisabled !== undefined ? { ruleDisabled } : {}),
    ...(p.errorAction !== undefined ? { errorAction: p.errorAction as TopicRuleAction } : {}),
  };
}

/** Validates one action and narrows it to a runnable one; `where` names it in messages. */
export function parseAction(action: unknown, where: string): RuleAction {
  if (action === null || typeof action !== 'object' || Array.isArray(action)) {
    throw invalidRequest(`${where} must be an object with one action type`);
  }
  const entries = Object.entries(action).filter(([, v]) => v !== undefined && v !== null);
  if (entries.length !== 1) {
    throw invalidRequest(
      `${where} must set exactly one action type, found ${entries.length === 0 ? 'none' : entries.map(([k]) => k).join(', ')}`,
    );
  }
  const [type, raw] = entries[0]!;
  const spec = (raw ?? {}) as Record<string, unknown>;
  const str = (field: string): string => {
    const v = spec[field];
    if (typeof v !== 'string' || v === '') throw invalidRequest(`${where}.${type}.${field} is required`);
    return v;
  };
  switch (type) {
    case 'lambda':
      return { type, functionArn: str('functionArn') };
    case 'republish': {
      const qos = spec.qos === undefined ? 0 : Number(spec.qos);
      if (qos !== 0 && qos !== 1)
        throw invalidRequest(`${where}.republish.qos must be 0 or 1, got ${spec.qos}`);
      return { type, topic: str('topic'), qos };
    }
    case 'sqs': {
      const b = spec.useBase64;
      const useBase64 = b === true || b === 'true';
      return { type, queueUrl: str('queueUrl'), useBase64 };
    }
    default:
      throw invalidRequest(
        `${where} uses the ${type} action, which the local rules engine does not emulate; supported actions: ${SUPPORTED_ACTIONS.join(', ')}`,
      );
  }
}
