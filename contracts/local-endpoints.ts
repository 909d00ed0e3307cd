/**
 * `endpoints.json`: what `zonectl local up` writes into its state dir so that tools (onboarding,
 * the dashboard, the demo, scripts) find the running local cloud, and the client configuration
 * that points an AWS SDK v3 client at it. The SDK needs some credentials to sign requests; the
 * local cloud accepts any, so fixed throwaway ones are used (no secret).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { LocalEndpointsError } from './errors';
import { describeIssues } from './validation';

export { LocalEndpointsError } from './errors';

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

/** Validates endpoints.json text; `path` names the file in errors. */
export function parseLocalEndpoints(text: string, path: string): LocalEndpoints {
  const restart = 'restart the local cloud with `zonectl local up` so it writes the file again';
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new LocalEndpointsError(`${path} is not valid JSON (${(err as Error).message}): ${restart}.`);
  }
  const parsed = LocalEndpointsSchema.safeParse(json);
  if (!parsed.success) {
    const problems = describeIssues(parsed.error, json, ENDPOINTS_FILE).join('; ');
    throw new LocalEndpointsError(`${path} is not a local cloud endpoints file (${problems}): ${restart}.`);
  }
  return parsed.data;
}

/** Reads `<stateDir>/endpoints.json` of a running local cloud. */
export function readLocalEndpoints(stateDir: string): LocalEndpoints {
  const path = join(stateDir, ENDPOINTS_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new LocalEndpointsError(
      `The local cloud is not running (no readable ${path}): start it with \`zonectl local up\`, or pass the --state-dir it uses.`,
    );
  }
  return parseLocalEndpoints(text, path);
}
