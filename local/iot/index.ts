export { describeThingOutput } from './operations/things';
export {
  type BoundPolicies,
  type CompiledPolicies,
  compilePolicies,
  evaluatePolicies,
  parsePolicyDocument,
} from './policy';
export { ENDPOINT_TYPES, IotRegistry, topicPatternOf } from './registry';
export { createIotRoute, IOT_OPERATIONS } from './route';
export { createIotService } from './service';
export type * from './types';
