export { evaluateConditions } from './conditions';
export { contextValue } from './context-keys';
export { parsePolicyDocument } from './document';
export { evaluatePolicies, statementsOf } from './evaluate';
