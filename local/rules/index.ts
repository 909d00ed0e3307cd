export {
  createRulesEngine,
  type RuleActionTargets,
  type RuleSummary,
  type RulesEngine,
  type RulesEngineOptions,
} from './engine';
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
export * from './sql';
