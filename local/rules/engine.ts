/**
 * Local AWS IoT rules engine: every publish the broker accepts is matched against the FROM
 * topic filter of each enabled rule; WHERE decides, SELECT builds the output, and the rule's
 * actions run asynchronously so a slow action never blocks the broker (AWS IoT developer
 * guide: "Rules for AWS IoT", "AWS IoT rule actions", "Error handling (error action)",
 * "Substitution templates", "Basic Ingest").
 *
 * LIMITATIONS versus AWS:
 * - Actions: lambda (async invoke through RuleActionTargets), republish and sqs only; others are
 *   refused by putRule, naming the action. Role ARNs are not checked (no IAM locally).
 * - Actions of one rule run one message at a time, in arrival order (AWS gives no ordering
 *   guarantee); actions of one message run concurrently. An action that has not finished
 *   after `actionTimeoutMs` counts as failed.
 * - No retries of failed actions (AWS retries some transient failures) and no CloudWatch
 *   logging or RuleNotFound metric: a log line stands in for both.
 * - Rules live in memory; the deployer puts them again after a restart.
 */
import { randomUUID } from 'node:crypto';
import type { BrokerMessage, MessageBus } from '../broker';
import { type CloudIdentity, iotArn } from '../common/account';
import { errorText, type LocalLogger } from '../common/log';
import { type ActionFailure, errorActionPayload, FAILED_ACTION_NAMES } from './error-action';
import { invalidRequest, sqlParseException } from './errors';
import {
  checkRuleName,
  normaliseTopicRulePayload,
  parseAction,
  type RuleAction,
  type TopicRulePayload,
} from './payload';
import {
  type CompiledRule,
  type CompiledTemplate,
  compileRule,
  compileTemplate,
  type Evaluation,
  evaluateTemplate,
  type RuleMessage,
  SqlParseError,
  serializeOutput,
} from './sql';

/** What rule actions call; the deployer implements it with the local Lambda and SQS services. */
export interface RuleActionTargets {
  /** Invokes a function asynchronously (InvocationType Event); resolves once it is queued. */
  invokeLambdaAsync(functionArn: string, payload: Buffer): Promise<void>;
  /** SendMessage to the queue with this URL. */
  sendSqsMessage(queueUrl: string, body: string): Promise<void>;
}

export interface RulesEngineOptions {
  readonly bus: MessageBus;
  readonly identity: CloudIdentity;
  readonly logger: LocalLogger;
  readonly targets: RuleActionTargets;
  /** Clock for timestamp(); defaults to Date.now. */
  readonly now?: () => number;
  /** How long one action may take before it counts as failed; default 30 s. */
  readonly actionTimeoutMs?: number;
  /** Messages waiting per rule before new ones are dropped (with a log line); default 10000. */
  readonly maxQueuedPerRule?: number;
}

export interface RuleSummary {
  readonly ruleName: string;
  readonly ruleArn: string;
  readonly sql: string;
  readonly awsIotSqlVersion: string;
  readonly ruleDisabled: boolean;
  /** FROM topic filter; undefined for a Basic Ingest-only rule. */
  readonly topicPattern: string | undefined;
  readonly actions: readonly RuleAction[];
  readonly errorAction: RuleAction | undefined;
}

export interface RulesEngine {
  /**
   * Creates or replaces a rule (CreateTopicRule / ReplaceTopicRule). Accepts the IoT API
   * payload or the CloudFormation TopicRulePayload. Throws AwsServiceError
   * (InvalidRequestException, or SqlParseException with the position and reason) so a
   * deployment fails rather than the rule misbehaving at runtime.
   */
  putRule(name: string, payload: TopicRulePayload | Record<string, unknown>): RuleSummary;
  /** Deletes a rule; returns false if there was none. */
  deleteRule(name: string): boolean;
  getRule(name: string): RuleSummary | undefined;
  listRules(): RuleSummary[];
  /** Resolves once every action queued so far has finished. */
  drain(): Promise<void>;
  /** Stops listening to the bus and waits for queued actions. */
  close(): Promise<void>;
}

interface ActionPlan {
  readonly action: RuleAction;
  /** The templated field: functionArn, topic or queueUrl. */
  readonly target: CompiledTemplate;
}

interface Rule {
  readonly summary: RuleSummary;
  readonly compiled: CompiledRule;
  readonly actions: readonly ActionPlan[];
  readonly errorAction: ActionPlan | undefined;
}

interface RuleQueue {
  tail: Promise<void>;
  waiting: number;
}

const BASIC_INGEST_PREFIX = '$aws/rules/';

export async function createRulesEngine(options: RulesEngineOptions): Promise<RulesEngine> {
  const { bus, identity, targets } = options;
  const log = options.logger.child('rules');
  const now = options.now ?? Date.now;
  const actionTimeoutMs = options.actionTimeoutMs ?? 30_000;
  const maxQueued = options.maxQueuedPerRule ?? 10_000;
  const rules = new Map<string, Rule>();
  const queues = new Map<string, RuleQueue>();
  const inFlight = new Set<Promise<void>>();
  let closed = false;

  function compileActionPlan(action: unknown, where: string, compiled: CompiledRule): ActionPlan {
    const parsed = parseAction(action, where);
    const field =
      parsed.type === 'lambda' ? parsed.functionArn : parsed.type === 'sqs' ? parsed.queueUrl : parsed.topic;
    try {
      return { action: parsed, target: compileTemplate(field, compiled.variableNames) };
    } catch (err) {
      if (err instanceof SqlParseError) {
        throw invalidRequest(
          `${where}.${parsed.type}: substitution template '${field}' is invalid at ${err.message}`,
        );
      }
      throw err;
    }
  }

  function putRule(name: string, input: TopicRulePayload | Record<string, unknown>): RuleSummary {
    checkRuleName(name);
    const payload = normaliseTopicRulePayload(input);
    const version = payload.awsIotSqlVersion;
    let compiled: CompiledRule;
    try {
      compiled = compileRule(payload.sql, version);
    } catch (err) {
      if (err instanceof SqlParseError) {
        throw sqlParseException(name, err);
      }
      throw err;
    }
    const actions = payload.actions.map((a, i) => compileActionPlan(a, `actions[${i}]`, compiled));
    const errorAction =
      payload.errorAction === undefined
        ? undefined
        : compileActionPlan(payload.errorAction, 'errorAction', compiled);
    const summary: RuleSummary = {
      ruleName: name,
      ruleArn: iotArn(identity, 'rule', name),
      sql: payload.sql,
      awsIotSqlVersion: compiled.version,
      ruleDisabled: payload.ruleDisabled ?? false,
      topicPattern: compiled.topicFilter,
      actions: actions.map((a) => a.action),
      errorAction: errorAction?.action,
    };
    const replaced = rules.has(name);
    rules.set(name, { summary, compiled, actions, errorAction });
    log.info(
      `${replaced ? 'replaced' : 'created'} rule ${name} (${summary.ruleDisabled ? 'disabled' : 'enabled'}, FROM ${compiled.topicFilter ?? '(Basic Ingest only)'}, ${actions.length} action(s))`,
    );
    return summary;
  }

  function onMessage(message: BrokerMessage, fromReservedSubscription: boolean): void {
    if (closed) return;
    const isReserved = message.topic.startsWith('$');
    if (isReserved !== fromReservedSubscription) return;
    try {
      if (message.topic.startsWith(BASIC_INGEST_PREFIX)) basicIngest(message);
      else {
        for (const rule of rules.values()) {
          if (!rule.summary.ruleDisabled && rule.compiled.matchesTopic(message.topic)) {
            runRule(rule, message, message.topic);
          }
        }
      }
    } catch (err) {
      log.error(`message on ${message.topic} not processed: ${errorText(err)}`);
    }
  }

  /** Basic Ingest: `$aws/rules/<ruleName>/<rest>` runs only that rule; topic() sees `<rest>`. */
  function basicIngest(message: BrokerMessage): void {
    const rest = message.topic.slice(BASIC_INGEST_PREFIX.length);
    const slash = rest.indexOf('/');
    const ruleName = slash < 0 ? rest : rest.slice(0, slash);
    const ruleTopic = slash < 0 ? '' : rest.slice(slash + 1);
    const rule = rules.get(ruleName);
    if (!rule || rule.summary.ruleDisabled) {
      log.warn(`RuleNotFound: Basic Ingest message on ${message.topic} names no enabled rule '${ruleName}'`);
      return;
    }
    runRule(rule, message, ruleTopic);
  }

  function runRule(rule: Rule, message: BrokerMessage, ruleTopic: string): void {
    const name = rule.summary.ruleName;
    const ruleMessage: RuleMessage = {
      topic: ruleTopic,
      payload: message.payload,
      timestamp: now(),
      ...(message.clientId !== undefined ? { clientId: message.clientId } : {}),
      ...(message.principal !== undefined ? { principal: message.principal } : {}),
    };
    let evaluation: Evaluation;
    try {
      evaluation = rule.compiled.evaluate(ruleMessage, { accountId: identity.accountId });
    } catch (err) {
      // AWS: a SQL evaluation error means no match and no errorAction, only a log entry.
      log.warn(`rule ${name}: SQL evaluation failed for a message on ${message.topic}: ${errorText(err)}`);
      return;
    }
    if (!evaluation.matched || rule.actions.length === 0) return;
    enqueue(name, () => runActions(rule, message, ruleMessage, evaluation));
  }

  function enqueue(ruleName: string, work: () => Promise<void>): void {
    let queue = queues.get(ruleName);
    if (!queue) {
      queue = { tail: Promise.resolve(), waiting: 0 };
      queues.set(ruleName, queue);
    }
    if (queue.waiting >= maxQueued) {
      log.error(`rule ${ruleName}: ${queue.waiting} messages already waiting for actions; message dropped`);
      return;
    }
    const q = queue;
    q.waiting++;
    const run = q.tail
      .then(work)
      .catch((err) => log.error(`rule ${ruleName}: actions failed: ${errorText(err)}`));
    const done = run.finally(() => {
      q.waiting--;
      inFlight.delete(done);
    });
    q.tail = done;
    inFlight.add(done);
  }

  async function runActions(
    rule: Rule,
    original: BrokerMessage,
    message: RuleMessage,
    evaluation: Evaluation,
  ) {
    const output = serializeOutput(evaluation.output);
    const binary = Buffer.isBuffer(evaluation.output);
    const results = await Promise.all(
      rule.actions.map((plan) => runAction(rule, plan, message, evaluation, output, binary)),
    );
    const failures = results.filter((f): f is ActionFailure => f !== undefined);
    if (failures.length === 0) return;
    const name = rule.summary.ruleName;
    for (const f of failures) {
      log.warn(`rule ${name}: ${f.failedAction} on ${f.failedResource} failed: ${f.errorMessage}`);
    }
    if (!rule.errorAction) return;
    const payload = errorActionPayload({
      ruleName: name,
      topic: original.topic,
      traceId: randomUUID(),
      clientId: original.clientId,
      originalPayload: original.payload,
      failures,
    });
    const failed = await runAction(
      rule,
      rule.errorAction,
      message,
      evaluation,
      Buffer.from(JSON.stringify(payload)),
      false,
    );
    if (failed) {
      log.error(
        `rule ${name}: errorAction ${failed.failedAction} on ${failed.failedResource} failed too, error report lost: ${failed.errorMessage}`,
      );
    }
  }

  /** Runs one action; returns its failure, or undefined on success. */
  async function runAction(
    rule: Rule,
    plan: ActionPlan,
    message: RuleMessage,
    evaluation: Evaluation,
    output: Buffer,
    binary: boolean,
  ): Promise<ActionFailure | undefined> {
    const failedAction = FAILED_ACTION_NAMES[plan.action.type];
    let resource = '';
    try {
      resource = evaluateTemplateParts(plan, rule, message, evaluation);
      await withTimeout(perform(plan.action, resource, output, binary), actionTimeoutMs);
      return undefined;
    } catch (err) {
      return { failedAction, failedResource: resource, errorMessage: errorMessage(err) };
    }
  }

  function evaluateTemplateParts(
    plan: ActionPlan,
    rule: Rule,
    message: RuleMessage,
    evaluation: Evaluation,
  ): string {
    const raw =
      plan.action.type === 'lambda'
        ? plan.action.functionArn
        : plan.action.type === 'sqs'
          ? plan.action.queueUrl
          : plan.action.topic;
    return raw.includes('${')
      ? evaluateTemplate(raw, message, rule.compiled, { accountId: identity.accountId, evaluation })
      : raw;
  }

  async function perform(
    action: RuleAction,
    resource: string,
    output: Buffer,
    binary: boolean,
  ): Promise<void> {
    switch (action.type) {
      case 'lambda':
        if (binary) {
          throw new Error(
            "the Lambda action needs a JSON payload and the rule's output is binary; select encode(*, 'base64') AS data instead",
          );
        }
        return targets.invokeLambdaAsync(resource, output);
      case 'sqs':
        return targets.sendSqsMessage(
          resource,
          action.useBase64 ? output.toString('base64') : output.toString('utf8'),
        );
      case 'republish': {
        // "Republish action": write $$ to publish to a reserved $ topic.
        const topic = resource.startsWith('$$') ? resource.slice(1) : resource;
        if (topic === '' || topic.includes('+') || topic.includes('#')) {
          throw new Error(`cannot republish to '${topic}': not a valid topic name`);
        }
        if (/^\$aws\/things\/[^/]+\/jobs\//.test(topic)) {
          throw new Error(`cannot republish to the reserved jobs topic '${topic}'`);
        }
        return bus.publish({ topic, payload: output, qos: action.qos });
      }
    }
  }

  const unsubscribe = [
    bus.subscribe('#', (m) => onMessage(m, false)),
    bus.subscribe('$aws/#', (m) => onMessage(m, true)),
  ];

  async function drain(): Promise<void> {
    while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
  }

  return {
    putRule,
    deleteRule(name) {
      const existed = rules.delete(name);
      if (existed) log.info(`deleted rule ${name}`);
      return existed;
    },
    getRule: (name) => rules.get(name)?.summary,
    listRules: () => [...rules.values()].map((r) => r.summary),
    drain,
    async close() {
      if (closed) return;
      closed = true;
      for (const u of unsubscribe) u();
      await drain();
    },
  };
}

function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

async function withTimeout(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the action did not finish within ${ms} ms`)), ms);
  });
  try {
    await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
