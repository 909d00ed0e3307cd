/** DescribeEndpoint (AWS IoT API Reference). */
import { type Operation, ok } from './binding';

export const ENDPOINT_OPERATIONS: readonly Operation[] = [
  {
    name: 'DescribeEndpoint',
    method: 'GET',
    segments: ['endpoint'],
    handle: ({ req, registry }) =>
      ok({ endpointAddress: registry.describeEndpoint(req.query.get('endpointType') ?? undefined) }),
  },
];
