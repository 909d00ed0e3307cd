import type { MessageBus } from '../broker';
import type { CloudIdentity, LocalLogger } from '../common';
import type { RuleAction, TopicRulePayload } from './payload';
import type { ExternalServices } from './sql';

/** What rule actions call; the deployer implements it with the local Lambda and SQS services. */
export interface RuleActionTargets {
  /**
   * Invokes a function asynchronously (InvocationType Event); resolves once the event is in the
   * function's durable queue. A LocalCapacityError (full local queue) or a storage failure is
   * held and retried by the engine; any other error is the action's failure.
   */
  invokeLambdaAsync(functionArn: string, payload: Buffer): Promise<void>;
  /** SendMessage to the queue with this URL; resolves once the message is on disk. */
  sendSqsMessage(queueUrl: string, body: string): Promise<void>;
}

export interface RulesServiceOptions {
  readonly bus: MessageBus;
  readonly identity: CloudIdentity;
  readonly logger: LocalLogger;
  readonly targets: RuleActionTargets;
  /**
   * The local services SQL external functions call (aws_lambda, get_thing_shadow,
   * get_registry_data, get_secret); a function whose service is missing fails at run time.
   */
  readonly external?: ExternalServices;
  /** Clock for timestamp(); by default the time the broker accepted the message. */
  readonly now?: () => number;
  /** How long one action may take before it counts as failed; default 30 s. */
  readonly actionTimeoutMs?: number;
  /** Messages of one rule whose actions run at once; default 64. Others wait, none is dropped. */
  readonly maxConcurrentPerRule?: number;
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

export interface RulesService {
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
  /**
   * Stops listening to the bus and waits up to `timeoutMs` (default 10 s) for running actions;
   * messages whose actions did not finish stay in the broker's journal for the next start.
   */
  close(timeoutMs?: number): Promise<void>;
}
