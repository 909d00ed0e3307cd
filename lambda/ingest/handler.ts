import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';

export const handler = async (_event: SQSEvent): Promise<SQSBatchResponse> => {
  return { batchItemFailures: [] };
};
