/**
 * `endpoints.json`: what `zonectl local up` writes into its state dir so that tools (onboarding,
 * the dashboard, the demo, scripts) find the running local cloud, and the client configuration
 * that points an AWS SDK v3 client at it. The SDK needs some credentials to sign requests; the
 * local cloud accepts any, so fixed throwaway ones are used (no secret).
 */
import { z } from 'zod';

export const ENDPOINTS_FILE = 'endpoints.json';

export const LocalEndpointsSchema = z.object({
  mqttHost: z.string().min(1),
  mqttPort: z.number().int().min(1).max(65_535),
  apiEndpoint: z.string().url(),
  caFile: z.string().min(1),
  region: z.string().min(1),
  accountId: z.string().regex(/^\d{12}$/),
});

export type LocalEndpoints = z.infer<typeof LocalEndpointsSchema>;

/** Credentials the local cloud accepts from any client; they open nothing on AWS. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

/** The configuration an AWS SDK v3 client needs to talk to the local cloud. */
export interface LocalClientConfig {
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: typeof LOCAL_CREDENTIALS;
}

export function localClientConfig(
  endpoints: Pick<LocalEndpoints, 'apiEndpoint' | 'region'>,
): LocalClientConfig {
  return { endpoint: endpoints.apiEndpoint, region: endpoints.region, credentials: LOCAL_CREDENTIALS };
}
