import { ENV, requireEnv } from '../../contracts';

/**
 * The account's own IoT data endpoint, as the stack passes it (ENV.iotDataEndpoint): AWS IoT
 * documents the shared `data-ats.iot.<region>.amazonaws.com` host, which the SDK would use
 * by default, for testing only ("AWS IoT device data and service endpoints"). An endpoint
 * set for the service through the AWS SDKs' own `AWS_ENDPOINT_URL_IOT_DATA_PLANE` (AWS SDKs
 * and Tools Reference Guide, "Service-specific endpoints") wins, as it does for any client
 * without an endpoint in code; the local cloud sets it.
 */
export function iotDataClientConfig(env: NodeJS.ProcessEnv): { endpoint?: string } {
  if (env.AWS_ENDPOINT_URL_IOT_DATA_PLANE) return {};
  return { endpoint: `https://${requireEnv(ENV.iotDataEndpoint, env)}` };
}
