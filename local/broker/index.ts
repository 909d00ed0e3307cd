/** @deprecated The broker's factory is createBrokerService; this name is kept for its importers. */
export { createBrokerService, createBrokerService as createBroker } from './service';
export {
  BASIC_INGEST_PREFIX,
  MAX_FILTERS_PER_SUBSCRIBE,
  MAX_PAYLOAD_BYTES,
  MAX_TOPIC_BYTES,
  MAX_TOPIC_SLASHES,
  topicLimitViolation,
  topicMatches,
} from './topics';
export type {
  Broker,
  BrokerMessage,
  BrokerOptions,
  BrokerService,
  BrokerServiceOptions,
  BrokerTlsOptions,
  ConnectedClient,
  MessageBus,
  MessageHandler,
} from './types';
