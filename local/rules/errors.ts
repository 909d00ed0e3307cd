/**
 * What the rules engine refuses when a rule is put, as CreateTopicRule does (AWS IoT API
 * Reference, "CreateTopicRule" > Errors): InvalidRequestException for the payload and its
 * actions, SqlParseException for SQL that does not parse, with its position and reason.
 */
import { AwsServiceError } from '../common';
import type { SqlParseError } from './sql';

export { invalidRequest } from '../common';

export const sqlParseException = (ruleName: string, err: SqlParseError) =>
  new AwsServiceError('SqlParseException', 400, `rule ${ruleName}: ${err.message}`, {
    position: err.position,
    reason: err.reason,
  });
