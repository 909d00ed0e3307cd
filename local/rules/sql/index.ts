export {
  type CompiledRule,
  compileRule,
  type Evaluation,
  type EvaluationContext,
  evaluateTemplate,
  parsePayload,
  type RuleMessage,
  serializeOutput,
} from './compile';
export { type SourcePosition, SqlParseError } from './errors';
export { type ExternalCall, SqlEvaluationError } from './evaluator';
export {
  AWS_LAMBDA_TIMEOUT_MS,
  callExternal,
  ExternalFunctionError,
  type ExternalServices,
} from './external-functions';
export { type CompiledTemplate, compileTemplate } from './template';
export { topicFilterProblem } from './topic-filter';
export { AWS_IOT_SQL_VERSIONS, DEFAULT_AWS_SQL_VERSION, SQL_VERSION_2016 } from './version';
