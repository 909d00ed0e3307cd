import { type LocalClientConfig, STACK_OUTPUT } from '../../contracts';
import { influxDbReader } from './influxdb-reader';
import type { ReadingsReader } from './reader';
import { timestreamReader } from './timestream-reader';

/**
 * The reader for a deployed stack, from its outputs (StorageEngine and the store's own
 * outputs; a stack from before StorageEngine existed is Timestream).
 */
export function readerFromOutputs(
  outputs: Readonly<Record<string, unknown>>,
  client: LocalClientConfig | Record<string, unknown>,
  options: { caPem?: string } = {},
): ReadingsReader {
  const output = (key: string) => {
    const v = outputs[key];
    if (typeof v !== 'string' || v === '') throw new Error(`the deployed stack has no output ${key}`);
    return v;
  };
  if ((outputs[STACK_OUTPUT.storageEngine] ?? 'timestream') === 'influxdb') {
    return influxDbReader({
      url: output(STACK_OUTPUT.influxDbUrl),
      bucket: output(STACK_OUTPUT.influxDbBucket),
      tokenSecretArn: output(STACK_OUTPUT.influxDbReadTokenSecretArn),
      client,
      ...(options.caPem ? { caPem: options.caPem } : {}),
    });
  }
  return timestreamReader(client, {
    database: output(STACK_OUTPUT.timestreamDatabase),
    table: output(STACK_OUTPUT.timestreamTable),
  });
}
