/**
 * Local AWS IoT rules engine: every publish the broker accepts is matched against the FROM
 * topic filter of each enabled rule; WHERE decides, SELECT builds the output, and the rule's
 * actions run asynchronously so a slow action never blocks the broker (AWS IoT developer
 * guide: "Rules for AWS IoT", "AWS IoT rule actions", "Error handling (error action)",
 * "Substitution templates", "Basic Ingest").
 *
 * The engine is a durable observer of the broker: for a message that matches, the promise it
 * returns resolves once every action has made its effect durable (SQS has the message on disk,
 * Lambda has the event in its durable queue, a QoS 1 republish is in the broker's journal), so
 * the broker's journal can let the message go; after a crash the journal hands it over again.
 *
 * LIMITATIONS versus AWS:
 * - Actions: lambda (async invoke through RuleActionTargets), republish and sqs only; others are
 *   refused by putRule, naming the action. Role ARNs are not checked (no IAM locally).
 * - Up to `maxConcurrentPerRule` messages of one rule run their actions at once, started in
 *   arrival order (AWS gives no ordering guarantee); actions of one message run concurrently.
 *   An action that has not finished after `actionTimeoutMs` counts as failed.
 * - A failed action is not retried (AWS retries some transient failures); a failure of the local
 *   machine (full disk, full local queue) is held and retried instead of reported. No
 *   CloudWatch logging or RuleNotFound metric: a log line stands in for both.
 * - Rules live in memory; the deployer and the IoT registry put them again after a restart.
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

/** The messages of one rule: how many run their actions now, and those waiting to start. */
interface RuleQueue {
  running: number;
  readonly waiting: Array<() => void>;
}

export async function createRulesService(options: RulesServiceOptions): Promise<RulesService> {
  const { bus, identity, targets } = options;
  const log = options.logger.child('rules');
  const now = options.now ?? Date.now;
  const actionTimeoutMs = options.actionTimeoutMs ?? 30_000;
  const maxConcurrent = options.maxConcurrentPerRule ?? 64;
  const rules = new Map<string, Rule>();
  const queues = new Map<string, RuleQueue>();
  const inFlight = new Set<Promise<void>>();
  let closed = false;
  const externalServices = options.external ?? {};
  const external = (call: ExternalCall) => callExternal(call, externalServices);
  const runActions = createActionRunner({
    bus,
    identity,
    targets,
    log,
    actionTimeoutMs,
    external,
    stopping: () => closed,
  });

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

  /**
   * Runs the rules a message matches; returns a promise that resolves once their actions are
   * durable, or undefined when no rule's actions run.
   */
  function onMessage(message: BrokerMessage, fromReservedSubscription: boolean): Promise<void> | undefined {
    if (closed) return undefined;
    const isReserved = message.topic.startsWith('$');
    if (isReserved !== fromReservedSubscription) return undefined;
    const work: Promise<void>[] = [];
    try {
      if (message.topic.startsWith(BASIC_INGEST_PREFIX)) {
        const done = basicIngest(message);
        if (done) work.push(done);
      } else {
        for (const rule of rules.values()) {
          if (selects(rule, message.topic)) {
            const done = runRule(rule, message, message.topic);
            if (done) work.push(done);
          }
        }
      }
    } catch (err) {
      log.error(`message on ${message.topic} not processed: ${errorText(err)}`);
    }
    if (work.length === 0) return undefined;
    return Promise.all(work).then(() => undefined);
  }

  /** Whether an enabled rule's FROM clause selects `topic`. */
  const selects = (rule: Rule, topic: string) =>
    !rule.summary.ruleDisabled && rule.compiled.matchesTopic(topic);

  /** The enabled rule a Basic Ingest topic names, or undefined. */
  function ingestRule(ruleName: string): Rule | undefined {
    const rule = rules.get(ruleName);
    return rule && !rule.summary.ruleDisabled ? rule : undefined;
  }

  /** Basic Ingest: `$aws/rules/<ruleName>/<rest>` runs only that rule; topic() sees `<rest>`. */
  function basicIngest(message: BrokerMessage): Promise<void> | undefined {
    const { ruleName, ruleTopic } = basicIngestTarget(message.topic);
    const rule = ingestRule(ruleName);
    if (!rule) {
      log.warn(`RuleNotFound: Basic Ingest message on ${message.topic} names no enabled rule '${ruleName}'`);
      return undefined;
    }
    return runRule(rule, message, ruleTopic);
  }

  function runRule(rule: Rule, message: BrokerMessage, ruleTopic: string): Promise<void> | undefined {
    const name = rule.summary.ruleName;
    const ruleMessage: RuleMessage = {
      topic: ruleTopic,
      payload: message.payload,
      // timestamp(): when the broker accepted the message, also when it is handed over again.
      timestamp: options.now ? now() : message.receivedAt,
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
      return schedule(name, 1, async () => {
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
    }
    let evaluation: Evaluation;
    try {
      evaluation = rule.compiled.evaluate(ruleMessage, { accountId: identity.accountId });
    } catch (err) {
      failed(err);
      return undefined;
    }
    if (!evaluation.matched || rule.actions.length === 0) return undefined;
    return schedule(name, maxConcurrent, () => runActions(rule, message, ruleMessage, evaluation));
  }

  /**
   * Runs `work` when fewer than `limit` messages of the rule are running; never drops it (the
   * broker bounds how many messages wait, by holding PUBACKs).
   */
  function schedule(ruleName: string, limit: number, work: () => Promise<void>): Promise<void> {
    let queue = queues.get(ruleName);
    if (!queue) {
      queue = { running: 0, waiting: [] };
      queues.set(ruleName, queue);
    }
    const q = queue;
    const free = q.running < limit;
    const started = free
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          q.waiting.push(resolve);
        });
    if (free) q.running++;
    const done = started.then(work).finally(() => {
      inFlight.delete(done);
      const next = q.waiting.shift();
      if (next) next();
      else q.running--;
    });
    inFlight.add(done);
    return done;
  }

  /**
   * Whether an enabled rule with actions selects messages on `topic` (its WHERE clause is not
   * evaluated): the broker journals only such messages for the engine.
   */
  function actsOn(topic: string): boolean {
    if (closed) return false;
    if (topic.startsWith(BASIC_INGEST_PREFIX)) {
      return (ingestRule(basicIngestTarget(topic).ruleName)?.actions.length ?? 0) > 0;
    }
    for (const rule of rules.values()) {
      if (rule.actions.length > 0 && selects(rule, topic)) return true;
    }
    return false;
  }

  const unsubscribe = [
    bus.subscribe('#', (m) => onMessage(m, false), { actsOn: (t) => !t.startsWith('$') && actsOn(t) }),
    bus.subscribe('$aws/#', (m) => onMessage(m, true), { actsOn }),
  ];

  async function drain(): Promise<void> {
    while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
  }

  /** Waits for running actions up to `timeoutMs`; held ones stop waiting (their messages stay journaled). */
  async function settle(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      drain(),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
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
    async close(timeoutMs = 10_000) {
      if (closed) return;
      closed = true;
      for (const u of unsubscribe) u();
      for (const q of queues.values()) q.waiting.length = 0;
      await settle(timeoutMs);
    },
  };
}

/** The rule a Basic Ingest topic (`$aws/rules/<ruleName>/<rest>`) names, and the `<rest>` it sees. */
function basicIngestTarget(topic: string): { ruleName: string; ruleTopic: string } {
  const rest = topic.slice(BASIC_INGEST_PREFIX.length);
  const slash = rest.indexOf('/');
  return slash < 0
    ? { ruleName: rest, ruleTopic: '' }
    : { ruleName: rest.slice(0, slash), ruleTopic: rest.slice(slash + 1) };
}
