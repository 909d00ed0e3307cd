/**
 * Topic rules as the IoT control plane stores them (AWS IoT API Reference, "CreateTopicRule",
 * "ReplaceTopicRule", "GetTopicRule", "ListTopicRules", "DeleteTopicRule"): the rule name
 * pattern, the payload's shape (at most 10 actions) and the SQL versions are checked as the
 * rules engine (`local/rules`) checks them; an omitted awsIotSqlVersion is 2015-10-08, and an
 * unknown rule is UnauthorizedException.
 * Every change hands the whole rule set to the listeners, so the running rules engine follows
 * what CreateTopicRule and friends store.
 */
import {
  AWS_IOT_SQL_VERSIONS,
  checkRuleName,
  DEFAULT_AWS_SQL_VERSION,
  normaliseTopicRulePayload,
} from '../../rules';
import { invalidRequest, resourceAlreadyExists, sqlParse, unauthorized } from '../errors';
import { type Page, paginate } from '../pagination';
import { type RegistryStore, sortBy } from '../store';
import type { RuleSqlValidator, TopicRulePayload, TopicRuleRecord } from '../types';

export type RulesListener = (rules: readonly TopicRuleRecord[]) => void;

/** The FROM topic filter of a rule's SQL, as ListTopicRules reports it in topicPattern. */
export function topicPatternOf(sql: string): string | undefined {
  return /\bFROM\s+(?:'([^']*)'|"([^"]*)"|(\S+))/i
    .exec(sql)
    ?.slice(1)
    .find((g) => g !== undefined);
}

export class TopicRules {
  private readonly listeners = new Set<RulesListener>();

  constructor(
    private readonly store: RegistryStore,
    private readonly validateSql: RuleSqlValidator | undefined,
  ) {}

  /** Every stored rule, in name order; the rules engine runs the enabled ones. */
  all(): TopicRuleRecord[] {
    return sortBy(this.store.rules.values(), (r) => r.ruleName);
  }

  /** Called with all rules after every change. Returns an unsubscribe function. */
  onChange(listener: RulesListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  create(ruleName: string, payload: TopicRulePayload): TopicRuleRecord {
    checkRuleName(ruleName);
    if (this.store.rules.has(ruleName)) {
      throw resourceAlreadyExists(
        `Rule ${ruleName} already exists`,
        ruleName,
        this.store.arn('rule', ruleName),
      );
    }
    return this.put(ruleName, payload, Date.now());
  }

  replace(ruleName: string, payload: TopicRulePayload): TopicRuleRecord {
    const existing = this.get(ruleName);
    return this.put(ruleName, payload, existing.createdAt);
  }

  get(ruleName: string): TopicRuleRecord {
    checkRuleName(ruleName);
    const rule = this.store.rules.get(ruleName);
    if (!rule) throw unauthorized(`Rule ${ruleName} does not exist`);
    return rule;
  }

  list(
    filter: { topic?: string; ruleDisabled?: boolean; nextToken?: string; maxResults?: number } = {},
  ): Page<TopicRuleRecord> {
    const all = this.all().filter(
      (r) =>
        (filter.topic === undefined || topicPatternOf(r.sql) === filter.topic) &&
        (filter.ruleDisabled === undefined || r.ruleDisabled === filter.ruleDisabled),
    );
    return paginate(all, filter.nextToken, filter.maxResults, 10000);
  }

  delete(ruleName: string): void {
    this.get(ruleName);
    this.store.rules.delete(ruleName);
    this.announce();
  }

  private put(ruleName: string, input: TopicRulePayload, createdAt: number): TopicRuleRecord {
    const payload = normaliseTopicRulePayload(input);
    const version = payload.awsIotSqlVersion ?? DEFAULT_AWS_SQL_VERSION;
    if (!AWS_IOT_SQL_VERSIONS.includes(version)) {
      throw invalidRequest(`Invalid awsIotSqlVersion ${version}`);
    }
    const problem = this.validateSql?.(payload.sql, version);
    if (problem) throw sqlParse(problem);
    const rule: TopicRuleRecord = {
      ruleName,
      ruleArn: this.store.arn('rule', ruleName),
      sql: payload.sql,
      ...(payload.description !== undefined ? { description: payload.description } : {}),
      actions: payload.actions,
      ruleDisabled: payload.ruleDisabled ?? false,
      awsIotSqlVersion: version,
      ...(payload.errorAction ? { errorAction: payload.errorAction } : {}),
      createdAt,
    };
    this.store.rules.put(ruleName, rule);
    this.announce();
    return rule;
  }

  private announce(): void {
    const rules = this.all();
    for (const l of this.listeners) {
      try {
        l(rules);
      } catch (err) {
        this.store.logger.error(`topic rule listener failed: ${(err as Error).message}`);
      }
    }
  }
}
