export { evaluateConditions } from './conditions';
export { contextValue } from './context-keys';
export { parsePolicyDocument } from './document';
export {
  type BoundPolicies,
  type CompiledPolicies,
  compilePolicies,
  evaluatePolicies,
  statementsOf,
} from './evaluate';
