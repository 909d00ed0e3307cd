/**
 * The AWS Regions each storage engine runs in, for `cdk synth` and `zonectl doctor`.
 *
 * Amazon Timestream for LiveAnalytics: the Regions of its write (ingest) endpoints in "Amazon
 * Timestream endpoints and quotas" (AWS General Reference,
 * https://docs.aws.amazon.com/general/latest/gr/timestream.html), the same set the AWS SDK's
 * endpoint data lists for `ingest.timestream` and `query.timestream`.
 *
 * Timestream for InfluxDB publishes no Region list in the documentation this project could
 * consult, so no list is kept for it: `zonectl doctor` asks the service in the chosen Region.
 */
export const LIVE_ANALYTICS_REGIONS = [
  'us-east-1',
  'us-east-2',
  'us-west-2',
  'eu-west-1',
  'eu-central-1',
  'ap-northeast-1',
  'ap-southeast-2',
  'ap-south-1',
  'us-gov-west-1',
] as const;

/** AWS Region names: `<area>-<direction>-<n>`, optionally with a partition part (`us-gov-west-1`). */
export const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

export function liveAnalyticsRegionProblem(region: string): string | undefined {
  if ((LIVE_ANALYTICS_REGIONS as readonly string[]).includes(region)) return undefined;
  return (
    `Amazon Timestream for LiveAnalytics is not offered in ${region}; it runs in ${LIVE_ANALYTICS_REGIONS.join(', ')}. ` +
    'Deploy to one of those Regions, or set "storage": {"engine": "influxdb"} in the building config'
  );
}
