/**
 * Running a matched rule's actions (AWS IoT Developer Guide, "AWS IoT rule actions", "Lambda",
 * "Republish" and "SQS" actions, "Substitution templates", "Error handling (error action)"): each
 * action's target (functionArn, topic, queueUrl) may hold `${expr}` templates evaluated against
 * the message; the actions of one message run concurrently; one that throws or outlasts the
 * action timeout is a failure; when any failed, the rule's errorAction gets AWS's error
 * payload listing every failure.
 *
 * A failure of the local machine rather than of the action (the local disk is full, a local
 * queue is at its bound) is not one AWS would report, so it never reaches the errorAction: the
 * action is held and tried again (1 s doubling to 30 s) until it succeeds, and the message stays
 * in the broker's journal meanwhile. `runActions` resolves once every action (or the
 * errorAction) has made its effect durable.
 *
 * Republish loops: AWS documents no loop detection for a rule that republishes onto a topic it
 * reads. Locally a message that rules have already republished MAX_REPUBLISH_HOPS times is not
 * republished again: the republish action fails with a message that names the chain, so the
 * errorAction reports it and the cloud keeps serving.
 */
import { randomUUID } from 'node:crypto';
import type { BrokerMessage, MessageBus } from '../broker';
import { type CloudIdentity, errorText, isTransientLocalFailure, type LocalLogger } from '../common';
import { type ActionFailure, errorActionPayload, FAILED_ACTION_NAMES } from './error-action';
import { invalidRequest } from './errors';
import { parseAction, type RuleAction } from './payload';
import {
  type CompiledRule,
  type CompiledTemplate,
  compileTemplate,
  type Evaluation,
  type ExternalCall,
  evaluateTemplate,
  type RuleMessage,
  SqlParseError,
  serializeOutput,
} from './sql';
import type { RuleActionTargets, RuleSummary } from './types';

export interface ActionPlan {
  readonly action: RuleAction;
  /** The templated field: functionArn, topic or queueUrl, checked when the rule is put. */
  readonly target: CompiledTemplate;
}

/** A rule as the engine runs it. */
export interface Rule {
  readonly summary: RuleSummary;
  readonly compiled: CompiledRule;
  readonly actions: readonly ActionPlan[];
  readonly errorAction: ActionPlan | undefined;
}

const targetField = (action: RuleAction): string =>
  action.type === 'lambda' ? action.functionArn : action.type === 'sqs' ? action.queueUrl : action.topic;

/** Validates one action of a rule being put; its template must parse with the rule's SET variables. */
export function compileActionPlan(action: unknown, where: string, compiled: CompiledRule): ActionPlan {
  const parsed = parseAction(action, where);
  const field = targetField(parsed);
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

/** A message republished by rules this many times is not republished again (a loop). */
export const MAX_REPUBLISH_HOPS = 8;

const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 30_000;

export interface ActionRunnerOptions {
  /** Makes the external function calls of substitution templates. */
  readonly external: (call: ExternalCall) => Promise<unknown>;
  readonly bus: MessageBus;
  readonly identity: CloudIdentity;
  readonly targets: RuleActionTargets;
  readonly log: LocalLogger;
  readonly actionTimeoutMs: number;
  /** True once the engine is stopping: held actions stop waiting (their message stays journaled). */
  readonly stopping: () => boolean;
}

/** Runs a matched rule's actions, then its errorAction if any of them failed. */
export function createActionRunner(options: ActionRunnerOptions) {
  const { bus, identity, targets, log, actionTimeoutMs, stopping, external } = options;
  let holding = 0;

  async function perform(
    action: RuleAction,
    resource: string,
    output: Buffer,
    binary: boolean,
    hops: number,
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
        if (hops >= MAX_REPUBLISH_HOPS) {
          throw new Error(
            `republish loop stopped: this message was already republished by rules ${hops} times (the local limit is ${MAX_REPUBLISH_HOPS}); a rule republishes onto a topic that leads back to it`,
          );
        }
        // Let the event loop serve sockets between hops, so a loop can never starve the cloud.
        await new Promise<void>((resolve) => setImmediate(resolve));
        return bus.publish({ topic, payload: output, qos: action.qos, hops: hops + 1 });
      }
    }
  }

  /**
   * Runs one action; returns its failure, or undefined on success. A local transient failure
   * (full disk, full local queue) is held and tried again until it succeeds or the engine stops
   * (then this rejects and the message stays journaled).
   */
  async function runAction(
    rule: Rule,
    plan: ActionPlan,
    message: RuleMessage,
    evaluation: Evaluation,
    output: Buffer,
    binary: boolean,
    hops: number,
  ): Promise<ActionFailure | undefined> {
    const failedAction = FAILED_ACTION_NAMES[plan.action.type];
    let resource = '';
    try {
      const raw = targetField(plan.action);
      resource = raw.includes('${')
        ? await evaluateTemplate(raw, message, rule.compiled, {
            accountId: identity.accountId,
            evaluation,
            external,
          })
        : raw;
    } catch (err) {
      return { failedAction, failedResource: resource, errorMessage: errorMessage(err) };
    }
    for (let attempt = 0; ; attempt++) {
      try {
        await withTimeout(perform(plan.action, resource, output, binary, hops), actionTimeoutMs);
        if (attempt > 0 && --holding === 0) log.info('held rule actions are running again');
        return undefined;
      } catch (err) {
        if (!isTransientLocalFailure(err)) {
          if (attempt > 0) holding--;
          return { failedAction, failedResource: resource, errorMessage: errorMessage(err) };
        }
        if (attempt === 0 && holding++ === 0) {
          log.error(
            `rule ${rule.summary.ruleName}: ${failedAction} on ${resource} is held: ${errorText(err)}; it is tried again until it succeeds`,
          );
        }
        if (stopping()) {
          holding--;
          throw new Error(`rule ${rule.summary.ruleName}: stopping with ${failedAction} on ${resource} held`);
        }
        const delay = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** attempt);
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  return async function runActions(
    rule: Rule,
    original: BrokerMessage,
    message: RuleMessage,
    evaluation: Evaluation,
  ): Promise<void> {
    const output = serializeOutput(evaluation.output);
    const binary = Buffer.isBuffer(evaluation.output);
    const hops = original.hops ?? 0;
    const results = await Promise.all(
      rule.actions.map((plan) => runAction(rule, plan, message, evaluation, output, binary, hops)),
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
      hops,
    );
    if (failed) {
      log.error(
        `rule ${name}: errorAction ${failed.failedAction} on ${failed.failedResource} failed too, error report lost: ${failed.errorMessage}`,
      );
    }
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
