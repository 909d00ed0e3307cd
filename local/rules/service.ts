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
 * - A rule whose SQL calls an external function (sql/external-functions.ts) is evaluated in
 *   its queue, one message at a time; a failed call fails the SQL: no action, no errorAction.
 */
import { BASIC_INGEST_PREFIX, type BrokerMessage } from '../broker';
import { errorText, iotArn } from '../common';
import { compileActionPlan, createActionRunner, type Rule } from './actions';
import { sqlParseException } from './errors';
import { checkRuleName, normaliseTopicRulePayload, type TopicRulePayload } from './payload';
import {
  type CompiledRule,
  callExternal,
  compileRule,
  type Evaluation,
  type ExternalCall,
  type RuleMessage,
  SqlParseError,
} from './sql';
import type { RuleSummary, RulesService, RulesServiceOptions } from './types';

interface RuleQueue {
  tail: Promise<void>;
  waiting: number;
}

export async function createRulesService(options: RulesServiceOptions): Promise<RulesService> {
  const { bus, identity, targets } = options;
  const log = options.logger.child('rules');
  const now = options.now ?? Date.now;
  const actionTimeoutMs = options.actionTimeoutMs ?? 30_000;
  const maxQueued = options.maxQueuedPerRule ?? 10_000;
  const rules = new Map<string, Rule>();
  const queues = new Map<string, RuleQueue>();
  const inFlight = new Set<Promise<void>>();
  let closed = false;
  const externalServices = options.external ?? {};
  const external = (call: ExternalCall) => callExternal(call, externalServices);
  const runActions = createActionRunner({ bus, identity, targets, log, actionTimeoutMs, external });

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
      ...(message.sourceIp !== undefined ? { sourceIp: message.sourceIp } : {}),
    };
    const failed = (err: unknown) =>
      // AWS: a SQL evaluation error, a failed external function included, means no action and
      // no errorAction, only an AWS IoT log entry ("Error handling (error action)").
      log.warn(
        `rule ${name}: SQL evaluation failed for a message on ${message.topic}, so no action runs: ${errorText(err)}`,
      );
    if (rule.compiled.callsExternal) {
      // External calls take time: the evaluation waits in the rule's queue, keeping its order.
      enqueue(name, async () => {
        let evaluation: Evaluation;
        try {
          evaluation = await rule.compiled.evaluateAsync(ruleMessage, {
            accountId: identity.accountId,
            external,
          });
        } catch (err) {
          failed(err);
          return;
        }
        if (evaluation.matched && rule.actions.length > 0)
          await runActions(rule, message, ruleMessage, evaluation);
      });
      return;
    }
    let evaluation: Evaluation;
    try {
      evaluation = rule.compiled.evaluate(ruleMessage, { accountId: identity.accountId });
    } catch (err) {
      failed(err);
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
