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
} as const;

/** Dimension every handler metric carries. */
export const METRIC_DIMENSION_BUILDING = 'building';
