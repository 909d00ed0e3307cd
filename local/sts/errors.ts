import { AwsServiceError } from '../common';

/** STS's answer to an action it does not have (query protocol `InvalidAction`). */
export const invalidAction = (action: string): AwsServiceError =>
  new AwsServiceError('InvalidAction', 400, `Could not find operation ${action} for version 2011-06-15`);
