export { createControlPlaneRoute, OPERATIONS as IOT_OPERATIONS } from './control-plane';
export { evaluatePolicies, parsePolicyDocument } from './policy';
export {
  type CertificateCreated,
  DEFAULT_SQL_VERSION,
  ENDPOINT_TYPES,
  IotRegistry,
  type ListThingsFilter,
  type StoredCertificate,
  type StoredPolicy,
  type ThingInput,
  type ThingPrincipalType,
  type ThingUpdate,
  type TopicRulePayload,
  type TopicRuleRecord,
  topicPatternOf,
} from './registry';
export { createIotService, type IotService, type IotServiceOptions } from './service';
export type * from './types';
