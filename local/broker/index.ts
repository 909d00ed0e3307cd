export {
  type Broker,
  type BrokerOptions,
  type BrokerTlsOptions,
  type ConnectedClient,
  createBroker,
} from './broker';
export {
  MAX_FILTERS_PER_SUBSCRIBE,
  MAX_PAYLOAD_BYTES,
  MAX_TOPIC_BYTES,
  MAX_TOPIC_SLASHES,
  topicLimitViolation,
  topicMatches,
} from './topics';
export type { BrokerMessage, MessageBus, MessageHandler } from './types';
