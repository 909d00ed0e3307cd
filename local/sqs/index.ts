export { md5OfAttributes, md5OfBody } from './md5';
export { createSqsService } from './service';
export type {
  EventSourceMapping,
  EventSourceMappingConfig,
  EventSourceMappingSummary,
  InvokeFunction,
  InvokeOutcome,
  MessageAttributes,
  MessageAttributeValue,
  QueueSummary,
  ReceivedMessage,
  ReceiveOptions,
  SendOptions,
  SqsService,
  SqsServiceOptions,
  StoredMessage,
} from './types';
