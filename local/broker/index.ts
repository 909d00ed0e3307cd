export { createBrokerService } from './service';
export {
  BASIC_INGEST_PREFIX,
  MAX_FILTERS_PER_SUBSCRIBE,
  MAX_PAYLOAD_BYTES,
  MAX_TOPIC_BYTES,
  MAX_TOPIC_SLASHES,
  topicLimitViolation,
} from './topics';
export type {
  BrokerMessage,
  BrokerService,
  BrokerServiceOptions,
  BrokerTlsOptions,
  ConnectedClient,
  MessageBus,
  MessageHandler,
  PublishOptions,
  SubscribeOptions,
} from './types';
