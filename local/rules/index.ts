export {
  type ActionFailure,
  type ErrorActionPayload,
  errorActionPayload,
  type FailedActionName,
} from './error-action';
export {
  checkRuleName,
  normaliseTopicRulePayload,
  parseAction,
  type RuleAction,
  SUPPORTED_ACTIONS,
  type TopicRuleAction,
  type TopicRulePayload,
} from './payload';
export { createRulesService } from './service';
export * from './sql';
export type { RuleActionTargets, RuleSummary, RulesService, RulesServiceOptions } from './types';
