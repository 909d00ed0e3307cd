export { ENDPOINT_TYPES } from './endpoints';
export { IotRegistry, type RegistryOptions } from './registry';
export { type RulesListener, topicPatternOf } from './topic-rules';
