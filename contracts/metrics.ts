/**
 * CloudWatch metric names the handlers emit (Powertools Metrics, namespace METRICS_NAMESPACE)
 * and the stack's alarms and dashboard read.
 */
export const METRIC = {
  readingsReceived: 'ReadingsReceived',
  readingsStored: 'ReadingsStored',
  readingsInvalid: 'ReadingsInvalid',
  readingsRejected: 'ReadingsRejected',
  storeThrottled: 'StoreThrottled',
  commandsIssued: 'CommandsIssued',
  overridesExpired: 'OverridesExpired',
  /** Control events the zone controller took from its queue. */
  controlEvents: 'ControlEvents',
  /** Zone decisions it made from them: one per zone of a batch, however many events it held. */
  controlDecisions: 'ControlDecisions',
} as const;

/** Dimension every handler metric carries. */
export const METRIC_DIMENSION_BUILDING = 'building';
