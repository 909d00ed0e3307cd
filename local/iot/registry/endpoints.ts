/**
 * DescribeEndpoint (AWS IoT API Reference, "DescribeEndpoint"): the first call for an endpoint
 * type creates the endpoint and later calls return the same address. The local cloud answers
 * with a host name of this machine (`localhost` unless configured), for which the broker's
 * server certificate is valid.
 */
import { invalidRequest } from '../errors';
import type { RegistryStore } from '../store';

export const ENDPOINT_TYPES = ['iot:Data', 'iot:Data-ATS', 'iot:CredentialProvider', 'iot:Jobs'] as const;

export class Endpoints {
  constructor(
    private readonly store: RegistryStore,
    private readonly address: string,
  ) {}

  describe(endpointType = 'iot:Data'): string {
    if (!(ENDPOINT_TYPES as readonly string[]).includes(endpointType)) {
      throw invalidRequest(`Invalid endpointType ${endpointType}: use one of ${ENDPOINT_TYPES.join(', ')}`);
    }
    const existing = this.store.endpoints.get(endpointType);
    if (existing) return existing;
    this.store.endpoints.put(endpointType, this.address);
    return this.address;
  }
}
