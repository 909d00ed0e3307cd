export { arn, type CloudIdentity, DEFAULT_IDENTITY, iotArn, LOCAL_ACCOUNT_ID, LOCAL_REGION } from './account';
export {
  AppendLog,
  type AppendLogOptions,
  type DamagedLine,
  type OpenedLog,
  quarantineLines,
} from './append-log';
export {
  AwsServiceError,
  invalidRequest,
  resourceNotFound,
  serializationError,
  unknownOperation,
} from './aws-error';
export {
  CheckpointedLog,
  type CheckpointedLogOptions,
  type OpenedCheckpointedLog,
  type Sequenced,
} from './checkpointed-log';
export { Deferred, deferredRoute, type RouteShape } from './deferred';
export {
  fsyncDirectory,
  isStorageFailure,
  isTransientLocalFailure,
  LAST_GOOD_SUFFIX,
  LocalCapacityError,
  StorageUnavailableError,
  storageError,
  writeFileAtomic,
} from './durable-fs';
export { consoleLogger, errorText, type LocalLogger, recordingLogger, silentLogger } from './log';
export { isStackOverflow, MAX_SYNTAX_DEPTH, nestingDepth } from './nesting';
export { scanQuoted } from './sql-lexing';
export {
  describeSchemaIssues,
  moveAside,
  readJsonDocument,
  StateFile,
  StateFileError,
  type StateFileOptions,
} from './state-file';
export { lockStateDir, processAlive, STATE_LOCK_FILE, StateDirInUseError } from './state-lock';
export { compileTopicFilter, type TopicMatcher, topicMatches } from './topic-filter';
