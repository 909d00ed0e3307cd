export { arn, type CloudIdentity, DEFAULT_IDENTITY, iotArn, LOCAL_ACCOUNT_ID, LOCAL_REGION } from './account';
export {
  AwsServiceError,
  invalidRequest,
  resourceNotFound,
  serializationError,
  unknownOperation,
} from './aws-error';
export { JsonFile } from './json-store';
export { consoleLogger, errorText, type LocalLogger, recordingLogger, silentLogger } from './log';
export { scanQuoted } from './sql-lexing';
