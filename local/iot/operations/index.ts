export type { Operation, OperationContext } from './binding';
export { CERTIFICATE_OPERATIONS } from './certificates';
export { ENDPOINT_OPERATIONS } from './endpoint';
export { POLICY_OPERATIONS } from './policies';
export { PRINCIPAL_OPERATIONS } from './principals';
export { THING_OPERATIONS } from './things';
export { TOPIC_RULE_OPERATIONS } from './topic-rules';
