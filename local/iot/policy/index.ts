export { evaluateConditions } from './conditions';
export { contextValue } from './context-keys';
export { malformedPolicy, parsePolicyDocument } from './document';
export { evaluatePolicies, statementsOf } from './evaluate';
